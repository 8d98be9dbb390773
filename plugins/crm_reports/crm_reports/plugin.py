"""Manifest and hook implementations of crm_reports."""

from __future__ import annotations

from core import Manifest, MenuItem, ModelDef, Permission, hookimpl
from crm_reports.commands import crm_commands  # noqa: F401
from crm_reports.jobs import crm_jobs  # noqa: F401
from crm_reports.models import SavedReport
from crm_reports.permissions import READ, WRITE

MANIFEST = Manifest(
    name="crm_reports",
    label="Reports",
    summary="The report generator: pivot tables, charts and exports over every installed module",
    application=True,
)


@hookimpl
def crm_models():
    return [ModelDef(SavedReport, label="Saved report")]


@hookimpl
def crm_blueprints():
    import crm_reports.views  # noqa: F401 - registers the routes on the blueprints
    from crm_reports.blueprints import api, bp

    return [bp, api]


@hookimpl
def crm_menus():
    return [
        MenuItem("crm_reports.root", "Reports", order=80),
        MenuItem("crm_reports.list", "All reports", endpoint="crm_reports.report_list",
                 parent="crm_reports.root", order=10, permission=READ),
        MenuItem("crm_reports.new", "New report", endpoint="crm_reports.builder",
                 parent="crm_reports.root", order=20, permission=WRITE),
    ]  # fmt: skip


@hookimpl
def crm_permissions() -> list[Permission]:
    return [
        Permission(READ, "Run reports", groups=("sales_manager", "sales_rep", "back_office")),
        Permission(WRITE, "Define and edit reports", groups=("sales_manager",)),
    ]
