"""A plugin that fails at import, as one with a missing third-party dependency would."""

raise RuntimeError("crm_broken_import fails on purpose at import time")
