"""Core and cross-plugin tests. The fixtures (crm_app_factory, make_user, log_in...) come from the
``core.testing`` pytest plugin that every plugin's tests use too."""

import importlib
import sys
from pathlib import Path

FIXTURE_PLUGINS = Path(__file__).resolve().parent / "fixture_plugins"

# The fixture modules that implement every hook (crm_fixture, crm_fixture_user) are discovered like
# pip-installed ones, through their .dist-info folders. This runs at import, before the session
# fixture ``crm_plugins`` calls discover(). The broken fixture plugins are deliberately not added:
# CI runs with CRM_STRICT_PLUGINS=1, so only the tests that want them put them on the path.
HEALTHY_PLUGINS = FIXTURE_PLUGINS / "healthy"
if str(HEALTHY_PLUGINS) not in sys.path:
    sys.path.insert(0, str(HEALTHY_PLUGINS))
    importlib.invalidate_caches()
