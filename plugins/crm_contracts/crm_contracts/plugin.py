"""Manifest and hook implementations of crm_contracts."""

from __future__ import annotations

from core import Manifest, Permission, hookimpl

MANIFEST = Manifest(
    name="crm_contracts",
    summary="Contracts, their validity and negotiated conditions",
    depends=("crm_contacts",),
    application=True,
)


@hookimpl
def crm_permissions() -> list[Permission]:
    return [
        Permission(
            "crm_contracts.read",
            "Read contracts",
            groups=("sales_manager", "sales_rep", "back_office"),
        ),
        Permission(
            "crm_contracts.write",
            "Create and edit contracts",
            groups=("sales_manager", "back_office"),
        ),
    ]
