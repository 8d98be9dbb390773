"""Manifest and hook implementations of crm_competitors."""

from __future__ import annotations

from core import Manifest, Permission, hookimpl

MANIFEST = Manifest(
    name="crm_competitors",
    summary="Competitors and changes in their strategy",
    depends=("crm_contacts",),
    application=True,
)


@hookimpl
def crm_permissions() -> list[Permission]:
    return [
        Permission(
            "crm_competitors.read", "Read competitors", groups=("sales_manager", "sales_rep")
        ),
        Permission(
            "crm_competitors.write",
            "Create and edit competitors",
            groups=("sales_manager", "sales_rep"),
        ),
    ]
