"""Import clients from a CSV file, in background jobs, and export them.

Upload → a check job (progress on the job's page, which then opens the check page: per-row errors,
what would happen) → confirm → the import job (progress) → the result. The file is kept with the
jobs in the attachment storage, so what is imported is what was checked, never a copy the browser
sends back; confirming twice (a double click) starts one import. The format and what an import
does are described in ``crm_contacts.importing``.
"""

from __future__ import annotations

from datetime import date

from flask import (
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from core.db import db_session
from core.inputs import large_uploads
from core.jobs import DONE, Job, enqueue
from core.models import Attachment
from core.permissions import permission_required
from crm_contacts.blueprints import bp
from crm_contacts.import_jobs import CHECK, IMPORT_JOB
from crm_contacts.importing import COLUMNS, KEYS, PREVIEW_ROWS, export_csv
from crm_contacts.permissions import IMPORT

KEY_LABELS = {
    "vat_number": "VAT number (rows without one: the name)",
    "name": "Name",
}


def _form(error: str = "", status: int = 200, key: str = "vat_number"):
    return render_template(
        "crm_contacts/import.html",
        columns=COLUMNS,
        keys=KEY_LABELS,
        key=key,
        error=error,
        max_mb=current_app.config["IMPORT_MAX_BYTES"] // (1024 * 1024),
    ), status


def _my_job(job_id: int, name: str) -> Job:
    """A job ``name`` of the current user that ended well, else 404."""
    job = db_session.get(Job, job_id)
    if job is None or job.name != name or job.user_id != current_user.id or job.status != DONE:
        abort(404)
    return job


@bp.route("/import", methods=["GET", "POST"])
@permission_required(IMPORT)
@large_uploads("IMPORT_MAX_BYTES")
def import_clients():
    """Upload → the check job; the check page's button posts ``confirm`` with the check's id."""
    if request.method == "GET":
        return _form()
    action = request.form.get("action", "preview")
    if action == "confirm":
        return _confirm(request.form.get("check", type=int))
    key = request.form.get("key", "vat_number")
    if key not in KEYS:
        return _form("Choose how rows are matched with existing clients.", 400)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _form("Choose a CSV file to import.", 400, key)
    content = upload.read()
    if not content.strip():
        return _form("The file is empty.", 400, key)
    job_id = enqueue(
        CHECK,
        current_user,
        files={"upload": content},
        key=key,
        filename=upload.filename[:200],
        label=f"Check of {upload.filename[:150]}",
    )
    return redirect(url_for("core_jobs.job_detail", job_id=job_id))


def _confirm(check_id: int | None):
    check = db_session.get(Job, check_id) if check_id else None
    data = check.result_data if check is not None else None
    if (
        check is None
        or check.name != CHECK
        or check.user_id != current_user.id
        or check.status != DONE
        or not data
        or not data["valid"]
    ):
        return _form(
            "This import is not waiting for a confirmation (it had errors, or it is not yours). "
            "Upload the file again.",
            400,
        )
    upload = db_session.get(Attachment, check.arguments["_files"]["upload"])
    if upload is None:
        return _form("The uploaded file is no longer kept. Upload the file again.", 400)
    job_id = enqueue(
        IMPORT_JOB,
        current_user,
        # The check's id: a second click on its button finds the import the first one started.
        idempotency_key=f"{IMPORT_JOB}:{check.id}",
        files={"upload": upload},
        key=data["key"],
        filename=data["filename"],
        label=f"Import of {data['filename'][:150]}",
    )
    return redirect(url_for("core_jobs.job_detail", job_id=job_id))


@bp.route("/import/check/<int:job_id>")
@permission_required(IMPORT)
def import_check(job_id: int):
    check = _my_job(job_id, CHECK)
    plan = check.result_data
    confirmed = db_session.scalar(
        select(Job.id).where(Job.idempotency_key == f"{IMPORT_JOB}:{check.id}")
    )
    return render_template(
        "crm_contacts/import_preview.html",
        plan=plan,
        check=check,
        confirmed=confirmed,
        key_label=KEY_LABELS[plan["key"]],
        keys=KEY_LABELS,
        preview_rows=PREVIEW_ROWS,
    )


@bp.route("/import/result/<int:job_id>")
@permission_required(IMPORT)
def import_result(job_id: int):
    job = _my_job(job_id, IMPORT_JOB)
    return render_template("crm_contacts/import_result.html", result=job.result_data, job=job)


@bp.route("/export.csv")
@permission_required(IMPORT)
def export_clients():
    """The clients the user sees, streamed: 100,000 clients never sit in memory as one text."""
    filename = f"clients-{date.today().isoformat()}.csv"
    return Response(
        stream_with_context(export_csv(db_session)),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
