"""Sales documents: the list, one document with its lines and payments, and the CSV import page
(the same checks as ``crm sales import``: every error by row, nothing written unless all is
right), whose check and import run as background jobs (``crm_sales.import_jobs``)."""

from __future__ import annotations

import math

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from core.db import db_session
from core.jobs import DONE, Job, enqueue
from core.models import Attachment
from core.permissions import permission_required
from crm_contacts.models import Client
from crm_sales.blueprints import bp
from crm_sales.import_jobs import CHECK, IMPORT_JOB
from crm_sales.importing import COLUMNS
from crm_sales.models import DOCUMENT_KINDS, SalesDocument, SalesLine
from crm_sales.permissions import IMPORT, READ

PER_PAGE = 50
MAX_UPLOAD = 200 * 1024 * 1024


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


def _import_page(check=None, error=None, status=200, confirmed=None):
    return render_template(
        "crm_sales/import.html", columns=COLUMNS, check=check, error=error, confirmed=confirmed
    ), status


@bp.route("/import", methods=["GET", "POST"])
@permission_required(IMPORT)
def import_documents():
    """Upload → the check job (its page opens the check) → confirm → the import job."""
    if request.method == "GET":
        return _import_page()
    if request.form.get("action") == "confirm":
        return _confirm(request.form.get("check", type=int))
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _import_page(error="Choose a CSV file.", status=400)
    content = upload.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        error = "The file is larger than 200 MB: use the command crm sales import."
        return _import_page(error=error, status=400)
    if not content.strip():
        return _import_page(error="The file is empty.", status=400)
    job_id = enqueue(
        CHECK,
        current_user,
        files={"upload": content},
        filename=upload.filename[:200],
        label=f"Check of {upload.filename[:150]}",
    )
    return redirect(url_for("core_jobs.job_detail", job_id=job_id))


def _my_check(job_id: int | None) -> Job | None:
    job = db_session.get(Job, job_id) if job_id else None
    if job is None or job.name != CHECK or job.user_id != current_user.id or job.status != DONE:
        return None
    return job


def _confirm(check_id: int | None):
    check = _my_check(check_id)
    if check is None or not check.result_data["valid"]:
        error = "This import is not waiting for a confirmation: upload the file again."
        return _import_page(error=error, status=400)
    upload = db_session.get(Attachment, check.arguments["_files"]["upload"])
    if upload is None:
        return _import_page(error="The file is no longer kept: upload it again.", status=400)
    filename = check.result_data["filename"]
    job_id = enqueue(
        IMPORT_JOB,
        current_user,
        idempotency_key=f"{IMPORT_JOB}:{check.id}",  # a double click starts one import
        files={"upload": upload},
        filename=filename,
        label=f"Import of {filename[:150]}",
    )
    return redirect(url_for("core_jobs.job_detail", job_id=job_id))


@bp.route("/import/check/<int:job_id>")
@permission_required(IMPORT)
def import_check(job_id: int):
    check = _my_check(job_id) or abort(404)
    confirmed = db_session.scalar(
        select(Job.id).where(Job.idempotency_key == f"{IMPORT_JOB}:{check.id}")
    )
    return _import_page(check=check, confirmed=confirmed)
