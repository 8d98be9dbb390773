"""Manifest and hook implementations of crm_sales.

The implementations live next to what they concern and are gathered here, where pluggy finds them.
"""

from __future__ import annotations

from core import Manifest, ModelDef, Permission, hookimpl
from crm_sales.models import Payment, Product, ProductGroup, SalesDocument, SalesLine
from crm_sales.permissions import IMPORT, READ, WRITE

MANIFEST = Manifest(
    name="crm_sales",
    summary="Products, sales documents and trade turnover",
    depends=("crm_contacts",),
    application=True,
)


@hookimpl
def crm_models():
    return [
        ModelDef(ProductGroup, label="Product group"),
        ModelDef(Product, label="Product"),
        ModelDef(SalesDocument, label="Sales document"),
        ModelDef(SalesLine, label="Sales line"),
        ModelDef(Payment, label="Payment"),
    ]


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
