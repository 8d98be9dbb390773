"""Products and sales documents in the global search box: one LIKE query each, ten hits at most."""

from __future__ import annotations

from flask import url_for
from sqlalchemy import func, or_, select

from core import hookimpl
from core.auth import has_permission
from core.search import SearchHit
from crm_sales.models import Product, SalesDocument
from crm_sales.permissions import READ

LIMIT = 5


@hookimpl
def crm_search(session, query, user):
    if not has_permission(READ, user):
        return []
    text = query.lower()
    products = session.scalars(
        select(Product)
        .where(
            or_(
                func.lower(Product.code).contains(text, autoescape=True),
                func.lower(Product.name).contains(text, autoescape=True),
            )
        )
        .order_by(Product.code)
        .limit(LIMIT)
    )
    hits = [
        SearchHit(f"{p.code} {p.name}", url_for("crm_sales.product_list", q=p.code), "Product")
        for p in products
    ]
    documents = session.scalars(
        select(SalesDocument)
        .where(SalesDocument.number.startswith(query, autoescape=True))
        .order_by(SalesDocument.number)
        .limit(LIMIT)
    )
    hits += [
        SearchHit(
            d.number,
            url_for("crm_sales.document_detail", document_id=d.id),
            "Invoice" if d.kind == "invoice" else "Credit note",
            d.date.isoformat(),
        )
        for d in documents
    ]
    return hits
