"""Manifest and hook implementations of crm_pricing."""

from __future__ import annotations

from core import Manifest, Permission, hookimpl

MANIFEST = Manifest(
    name="crm_pricing",
    summary="Client-specific prices from turnover, quantity, groups and early payment",
    depends=("crm_contacts", "crm_sales"),
    application=True,
)


@hookimpl
def crm_permissions() -> list[Permission]:
    return [
        Permission(
            "crm_pricing.read",
            "Read pricing rules and price lists",
            groups=("sales_manager", "sales_rep", "back_office"),
        ),
        Permission(
            "crm_pricing.write",
            "Create and edit pricing rules and price lists",
            groups=("sales_manager",),
        ),
    ]
