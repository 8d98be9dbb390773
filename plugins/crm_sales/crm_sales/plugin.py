"""Manifest and hook implementations of crm_sales."""

from __future__ import annotations

from core import Manifest, Permission, hookimpl

MANIFEST = Manifest(
    name="crm_sales",
    summary="Products, sales documents and trade turnover",
    depends=("crm_contacts",),
    application=True,
)


@hookimpl
def crm_permissions() -> list[Permission]:
    return [
        Permission(
            "crm_sales.read",
            "Read products and sales documents",
            groups=("sales_manager", "sales_rep", "back_office"),
        ),
        Permission(
            "crm_sales.write",
            "Create and edit products and sales documents",
            groups=("sales_manager", "sales_rep", "back_office"),
        ),
    ]
