"""`crm db upgrade` brings what a new version of an installed module declares into the database."""

from __future__ import annotations

import types

from core import Manifest, Permission, hookimpl
from core.plugins import PluginInfo
from core.testing import granted_permissions
from tests.helpers import run_cli


def _plugin(permissions: list[Permission]) -> PluginInfo:
    module = types.ModuleType("crm_growing")
    module.MANIFEST = Manifest(name="crm_growing")
    module.crm_permissions = hookimpl(lambda: permissions)
    return PluginInfo("crm_growing", manifest=module.MANIFEST, module=module, version="1")


def test_upgrade_stores_permissions_a_new_version_adds(crm_app_factory, crm_plugins):
    first = {**crm_plugins, "crm_growing": _plugin([Permission("crm_growing.read", "Read")])}
    app = crm_app_factory(["crm_growing"], plugins=first)
    newer = _plugin(
        [
            Permission("crm_growing.read", "Read"),
            Permission("crm_growing.export", "Export", groups=("sales_manager",)),
        ]
    )
    app.extensions["crm"].plugins["crm_growing"] = newer
    assert run_cli(app, "db", "upgrade").exit_code == 0
    granted = granted_permissions(app, "crm_growing")
    assert granted.get("crm_growing.export") == ["admin", "sales_manager"]
