"""The JSON API of sales documents and products (``/api/v1/sales/...``).

``POST /api/v1/sales/documents`` takes one document, or ``{"documents": [...]}`` (up to 1,000),
from the ERP. It is idempotent by document number: re-sending a document replaces the stored one,
never doubles it, and re-sending it unchanged changes nothing. A batch is all or nothing; its
errors name the document and line (``documents.3.lines.0.product_code``).
"""

from __future__ import annotations

from datetime import date

from flask import jsonify, request, url_for
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.api import ApiError, api_doc, created, json_body, paginate, query_date, query_int
from core.db import db_session
from core.permissions import permission_required
from core.record_rules import is_restricted
from crm_contacts.models import Client
from crm_contacts.views.clients import still_visible
from crm_sales.blueprints import api
from crm_sales.importing import apply_import, documents_from_api
from crm_sales.models import Product, SalesDocument, SalesLine
from crm_sales.permissions import IMPORT, READ
from crm_sales.schemas import (
    DocumentBatchSchema,
    DocumentInSchema,
    DocumentOutSchema,
    DocumentSummarySchema,
    ProductOutSchema,
)
from crm_sales.settings import installation_currency
from crm_sales.turnover import PERIOD_MONTHS, turnover_by_period


def _document(condition) -> SalesDocument:
    """The document (``SalesDocument.id == …`` or ``number``) with its lines and payments."""
    document = db_session.scalar(
        select(SalesDocument)
        .where(condition)
        .options(
            selectinload(SalesDocument.lines).joinedload(SalesLine.product),
            selectinload(SalesDocument.payments),
        )
    )
    if document is None:
        raise ApiError({"_schema": ["No such document."]}, status=404)
    return document


@api.route("/documents")
@permission_required(READ)
@api_doc(
    "List sales documents",
    response_schema=DocumentSummarySchema,
    many=True,
    query=("client_id", "kind", "number", "sort", "page", "per_page"),
)
def api_document_list():
    stmt = select(SalesDocument)
    return jsonify(
        paginate(
            stmt,
            DocumentSummarySchema(),
            model=SalesDocument,
            filterable=("client_id", "kind", "number"),
            sortable=("date", "number", "total_local"),
            default_sort="-date",
        )
    )


@api.route("/documents/<int:document_id>")
@permission_required(READ)
@api_doc("Read a sales document with its lines and payments", response_schema=DocumentOutSchema)
def api_document_get(document_id: int):
    return jsonify(DocumentOutSchema().dump(_document(SalesDocument.id == document_id)))


@api.route("/documents", methods=["POST"])
@permission_required(IMPORT)
@api_doc(
    "Send one document (or {'documents': [...]}) from the ERP; replaces by number",
    request_schema=DocumentInSchema,
    response_schema=DocumentOutSchema,
)
def api_document_post():
    payload = json_body()
    if "documents" in payload:
        loaded = DocumentBatchSchema().load(payload)["documents"]
        try:
            documents = documents_from_api(db_session, loaded)
        except ValidationError as error:
            raise ValidationError({"documents": error.messages}) from None
        result = apply_import(db_session, documents)
        db_session.commit()
        return jsonify(created=result.created, replaced=result.replaced, unchanged=result.unchanged)
    loaded = DocumentInSchema().load(payload)
    try:
        (data,) = documents_from_api(db_session, [loaded])
    except ValidationError as error:
        raise ValidationError(error.messages[0]) from None
    result = apply_import(db_session, [data])
    db_session.commit()
    document = _document(SalesDocument.number == data.number)
    body = DocumentOutSchema().dump(document)
    location = url_for(".api_document_get", document_id=document.id)
    if result.created:
        return created(body, location)
    return jsonify({**body, "outcome": "replaced" if result.replaced else "unchanged"})


@api.route("/products")
@permission_required(READ)
@api_doc(
    "List products",
    response_schema=ProductOutSchema,
    many=True,
    query=("code", "sort", "page", "per_page"),
)
def api_product_list():
    return jsonify(
        paginate(
            select(Product),
            ProductOutSchema(),
            model=Product,
            filterable=("code",),
            sortable=("code", "name"),
            default_sort="code",
        )
    )


@api.route("/turnover")
@permission_required(READ)
@api_doc(
    "Net turnover of a client (or a customer group) by period",
    query=("client_id", "customer_group_id", "start", "end", "period", "group_id"),
)
def api_turnover():
    today = date.today()
    start = query_date("start", date(today.year, 1, 1))
    end = query_date("end", date(today.year, 12, 31))
    if end < start:
        raise ApiError({"end": ["The end cannot be before the start."]})
    period = request.args.get("period", "month")
    if period not in PERIOD_MONTHS:
        raise ApiError({"period": [f"One of: {', '.join(PERIOD_MONTHS)}."]})
    client_id = query_int("client_id")
    customer_group_id = query_int("customer_group_id")
    try:
        groups = [int(g) for g in request.args.getlist("group_id")] or None
    except ValueError:
        raise ApiError({"group_id": ["Whole numbers."]}) from None
    if client_id is None and customer_group_id is None:
        raise ApiError({"client_id": ["Give client_id or customer_group_id."]})
    # Record rules apply: a representative asks only about the clients they may see.
    if client_id is not None and not still_visible(client_id):
        raise ApiError({"client_id": ["No such client."]}, status=404)
    clients = None if client_id is None else [client_id]
    if clients is None and is_restricted(Client):
        # The turnover service sums in raw SQL, outside the rules: a customer group's figure is
        # that of the group's clients this user may see, as a list of them would show.
        clients = list(
            db_session.scalars(
                select(Client.id).where(Client.customer_group_id == customer_group_id)
            )
        )
        customer_group_id = None
    figures = turnover_by_period(
        db_session,
        clients,
        start,
        end,
        period,
        groups,
        customer_group_id=customer_group_id,
    )
    return jsonify(
        currency=installation_currency(),
        periods=[
            {"period": p.label, "start": p.start.isoformat(), "end": p.end.isoformat(),
             "turnover": str(value)}
            for p, value in figures.items()
        ],
        total=str(sum(figures.values())),
    )  # fmt: skip
