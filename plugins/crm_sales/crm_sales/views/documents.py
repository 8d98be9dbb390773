"""Sales documents: the list, one document with its lines and payments, and the CSV import page
(the same checks as ``crm sales import``: every error by row, nothing written unless all is
right)."""

from __future__ import annotations

import math

from flask import abort, render_template, request
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from core.db import db_session
from core.permissions import permission_required
from crm_contacts.models import Client
from crm_sales.blueprints import bp
from crm_sales.importing import COLUMNS, apply_import, plan_import
from crm_sales.models import DOCUMENT_KINDS, SalesDocument, SalesLine
from crm_sales.permissions import IMPORT, READ

PER_PAGE = 50
MAX_UPLOAD = 20 * 1024 * 1024


@bp.route("/documents")
@permission_required(READ)
def document_list():
    client_id = request.args.get("client", type=int)
    kind = request.args.get("kind", "")
    number = request.args.get("number", "").strip()
    page = max(request.args.get("page", 1, type=int), 1)
    stmt = select(SalesDocument)
    client = None
    if client_id:
        client = db_session.scalar(select(Client).where(Client.id == client_id))
        if client is None:
            abort(404)
        stmt = stmt.where(SalesDocument.client_id == client_id)
    if kind in DOCUMENT_KINDS:
        stmt = stmt.where(SalesDocument.kind == kind)
    if number:
        stmt = stmt.where(SalesDocument.number.startswith(number, autoescape=True))
    total = db_session.scalar(select(func.count()).select_from(stmt.subquery()))
    documents = db_session.scalars(
        stmt.options(joinedload(SalesDocument.client))
        .order_by(SalesDocument.date.desc(), SalesDocument.id.desc())
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    return render_template(
        "crm_sales/document_list.html",
        documents=documents,
        total=total,
        page=page,
        pages=max(1, math.ceil(total / PER_PAGE)),
        client=client,
        kind=kind,
        number=number,
        kinds=DOCUMENT_KINDS,
    )


@bp.route("/documents/<int:document_id>")
@permission_required(READ)
def document_detail(document_id: int):
    document = db_session.scalar(
        select(SalesDocument)
        .where(SalesDocument.id == document_id)
        .options(
            joinedload(SalesDocument.client),
            selectinload(SalesDocument.lines).joinedload(SalesLine.product),
            selectinload(SalesDocument.payments),
        )
    )
    if document is None:
        abort(404)
    return render_template("crm_sales/document_detail.html", document=document)


def _import_page(plan=None, result=None, error=None, status=200):
    return render_template(
        "crm_sales/import.html", columns=COLUMNS, plan=plan, result=result, error=error
    ), status


@bp.route("/import", methods=["GET", "POST"])
@permission_required(IMPORT)
def import_documents():
    if request.method == "GET":
        return _import_page()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _import_page(error="Choose a CSV file.", status=400)
    content = upload.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        error = "The file is larger than 20 MB: use the command crm sales import."
        return _import_page(error=error, status=400)
    plan = plan_import(db_session, content)
    if not plan.valid or request.form.get("check_only"):
        db_session.rollback()
        return _import_page(plan, status=200 if plan.valid else 400)
    result = apply_import(db_session, plan.documents)
    db_session.commit()
    return _import_page(plan, result)
