"""Manifest and hook implementations of crm_reports."""

from __future__ import annotations

from core import Manifest, Permission, hookimpl

MANIFEST = Manifest(
    name="crm_reports",
    summary="The report generator",
    application=True,
)


@hookimpl
def crm_permissions() -> list[Permission]:
    return [
        Permission(
            "crm_reports.read", "Run reports", groups=("sales_manager", "sales_rep", "back_office")
        ),
        Permission("crm_reports.write", "Define and edit reports", groups=("sales_manager",)),
    ]
