"""Manifest and hook implementations of crm_advertising."""

from __future__ import annotations

from core import Manifest, Permission, hookimpl

MANIFEST = Manifest(
    name="crm_advertising",
    summary="Advertising materials: stock, movements, hand-outs to clients",
    depends=("crm_contacts",),
    application=True,
)


@hookimpl
def crm_permissions() -> list[Permission]:
    return [
        Permission(
            "crm_advertising.read",
            "Read advertising materials",
            groups=("sales_manager", "sales_rep", "back_office"),
        ),
        Permission(
            "crm_advertising.write",
            "Create and edit advertising materials",
            groups=("sales_manager", "back_office"),
        ),
    ]
