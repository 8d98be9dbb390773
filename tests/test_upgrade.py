"""`crm db upgrade` brings what a new version of an installed module declares into the database."""

from __future__ import annotations

import types

from sqlalchemy import select

from core import Manifest, Permission, hookimpl
from core.db import db_session
from core.models import PermissionRecord
from core.plugins import PluginInfo
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
    with app.app_context():
        export = db_session.scalar(
            select(PermissionRecord).where(PermissionRecord.code == "crm_growing.export")
        )
        assert export is not None and export.module == "crm_growing"
        assert sorted(g.code for g in export.groups) == ["admin", "sales_manager"]
