"""The core's own contributions, registered in every plugin manager under the name ``core``."""

from __future__ import annotations

from core.hookspecs import hookimpl
from core.menus import MenuItem
from core.permissions import Permission


@hookimpl
def crm_permissions() -> list[Permission]:
    return [
        Permission("core.modules", "Install and uninstall modules", groups=("admin",)),
        Permission("core.users", "Manage users and groups", groups=("admin",)),
    ]


@hookimpl
def crm_menus() -> list[MenuItem]:
    return [
        MenuItem("core.settings", "Settings", order=1000),
        MenuItem(
            "core.apps", "Apps", endpoint="core.apps", parent="core.settings", order=10,
            permission="core.modules",
        ),
    ]
