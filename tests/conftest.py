"""Core and cross-plugin tests. The fixtures (crm_app_factory, make_user, log_in...) come from the
``core.testing`` pytest plugin that every plugin's tests use too."""
