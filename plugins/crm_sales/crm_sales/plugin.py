"""Manifest and hook implementations of crm_sales.

The implementations live next to what they concern and are gathered here, where pluggy finds them.
"""

from __future__ import annotations

from sqlalchemy import select, true

from core import Manifest, MenuItem, ModelDef, Permission, RecordPage, hookimpl
from core.record_rules import RecordRule
from core.reports import ReportDefinition
from crm_contacts.models import Client
from crm_sales.commands import crm_commands  # noqa: F401
from crm_sales.demo import crm_demo_data  # noqa: F401
from crm_sales.import_jobs import crm_jobs  # noqa: F401
from crm_sales.list_columns import crm_contacts_client_columns  # noqa: F401
from crm_sales.models import Payment, Product, ProductGroup, SalesDocument, SalesLine
from crm_sales.permissions import IMPORT, READ, WRITE
from crm_sales.schemas import DocumentSummarySchema, ProductOutSchema
from crm_sales.search import crm_search  # noqa: F401
from crm_sales.sections import crm_client_file_sections, crm_client_since  # noqa: F401

DOCUMENT_PAGE = "crm_sales.document_detail"

MANIFEST = Manifest(
    name="crm_sales",
    summary="Products, sales documents and trade turnover",
    depends=("crm_contacts",),
    application=True,
)


@hookimpl
def crm_models():
    return [
        ModelDef(ProductGroup, label="Product group", lookup=("name", "code")),
        ModelDef(
            Product,
            label="Product",
            schema=ProductOutSchema,
            lookup=("name", "code"),
            lookup_filters=("group_id", "active"),
        ),
        ModelDef(
            SalesDocument,
            label="Sales document",
            schema=DocumentSummarySchema,
            page=RecordPage(DOCUMENT_PAGE, "document_id"),
        ),
        ModelDef(
            SalesLine,
            label="Sales line",
            page=RecordPage(DOCUMENT_PAGE, "document_id", "document_id"),
        ),
        ModelDef(Payment, label="Payment", owned_by="document_id"),
    ]


@hookimpl
def crm_blueprints():
    import crm_sales.views  # noqa: F401 - registers the routes on the blueprints
    from crm_sales.blueprints import api, bp

    return [bp, api]


@hookimpl
def crm_menus():
    return [
        MenuItem("crm_sales.root", "Sales", order=30),
        MenuItem("crm_sales.documents", "Sales documents", endpoint="crm_sales.document_list",
                 parent="crm_sales.root", order=10, permission=READ),
        MenuItem("crm_sales.products", "Products", endpoint="crm_sales.product_list",
                 parent="crm_sales.root", order=20, permission=READ),
        MenuItem("crm_sales.groups", "Product groups", endpoint="crm_sales.group_list",
                 parent="crm_sales.root", order=30, permission=READ),
        MenuItem("crm_sales.import", "Import from the ERP", endpoint="crm_sales.import_documents",
                 parent="crm_sales.root", order=40, permission=IMPORT),
    ]  # fmt: skip


@hookimpl
def crm_permissions() -> list[Permission]:
    return [
        Permission(
            READ,
            "Read products and sales documents",
            groups=("sales_manager", "sales_rep", "back_office"),
        ),
        Permission(
            WRITE,
            "Create and edit products and sales documents",
            groups=("sales_manager", "sales_rep", "back_office"),
        ),
        Permission(
            IMPORT,
            "Import sales documents from the ERP (CSV, API)",
            groups=("sales_manager", "back_office"),
        ),
    ]


def _clients_of(user):
    return select(Client.id).where(Client.responsible_id == user.id)


@hookimpl
def crm_record_rules():
    """Consistent with crm_contacts: a representative sees the documents (and lines) of the
    clients they are responsible for; managers and back office see all."""
    return [
        RecordRule(
            "crm_sales.own_documents",
            "Sales representatives see only the sales documents of their clients",
            SalesDocument,
            groups=("sales_rep",),
            criteria=lambda user: SalesDocument.client_id.in_(_clients_of(user)),
        ),
        RecordRule(
            "crm_sales.all_documents",
            "Sales managers and back office see all sales documents",
            SalesDocument,
            groups=("sales_manager", "back_office"),
            criteria=lambda user: true(),
        ),
        RecordRule(
            "crm_sales.own_lines",
            "Sales representatives see only the sales lines of their clients",
            SalesLine,
            groups=("sales_rep",),
            criteria=lambda user: SalesLine.client_id.in_(_clients_of(user)),
        ),
        RecordRule(
            "crm_sales.all_lines",
            "Sales managers and back office see all sales lines",
            SalesLine,
            groups=("sales_manager", "back_office"),
            criteria=lambda user: true(),
        ),
    ]


TURNOVER = {"field": "net_amount", "agg": "sum"}


@hookimpl
def crm_reports():
    lines = SalesLine.__tablename__
    return [
        ReportDefinition(
            id="crm_sales.turnover_by_customer_group_quarter",
            title="Turnover by customer group and quarter",
            model=lines,
            order=10,
            spec={
                "filters": [{"field": "date", "op": "this_year"}],
                "group_by": [
                    {"field": "client.customer_group.name"},
                    {"field": "date", "bucket": "quarter"},
                ],
                "measures": [TURNOVER],
                "pivot": "date",
                "chart": {"type": "bar"},
            },
        ),
        ReportDefinition(
            id="crm_sales.turnover_by_representative_month",
            title="Turnover by representative and month",
            model=lines,
            order=11,
            spec={
                "filters": [{"field": "date", "op": "this_year"}],
                "group_by": [{"field": "responsible.name"}, {"field": "date", "bucket": "month"}],
                "measures": [TURNOVER],
                "pivot": "date",
                "chart": {"type": "stacked_bar"},
            },
        ),
        ReportDefinition(
            id="crm_sales.turnover_by_product_group_year",
            title="Turnover by product group, this year against last",
            model=lines,
            order=12,
            spec={
                "filters": [{"field": "date", "op": "this_and_last_year"}],
                "group_by": [{"field": "group.name"}, {"field": "date", "bucket": "year"}],
                "measures": [TURNOVER],
                "pivot": "date",
                "compare": "previous",
                "order_by": [{"field": "net_amount:sum", "dir": "desc"}],
                "chart": {"type": "bar"},
            },
        ),
        ReportDefinition(
            id="crm_sales.turnover_by_client",
            title="Turnover by client",
            model=lines,
            columns=("client_id", "net_amount"),
            filters=("date", "month", "group_id", "responsible_id"),
            group_by=("client_id",),
            aggregates={"net_amount": "sum"},
            chart="bar",
        ),
        ReportDefinition(
            id="crm_sales.turnover_by_group",
            title="Turnover by product group",
            model=lines,
            columns=("group_id", "net_amount", "signed_quantity"),
            filters=("date", "month", "client_id", "responsible_id"),
            group_by=("group_id",),
            aggregates={"net_amount": "sum", "signed_quantity": "sum"},
            chart="bar",
        ),
        ReportDefinition(
            id="crm_sales.turnover_by_representative",
            title="Turnover by representative",
            model=lines,
            columns=("responsible_id", "net_amount"),
            filters=("date", "month", "group_id"),
            group_by=("responsible_id",),
            aggregates={"net_amount": "sum"},
            chart="bar",
        ),
        ReportDefinition(
            id="crm_sales.turnover_by_month",
            title="Turnover by month",
            model=lines,
            columns=("month", "net_amount"),
            filters=("date", "client_id", "group_id", "responsible_id"),
            group_by=("month",),
            aggregates={"net_amount": "sum"},
            chart="line",
        ),
    ]
