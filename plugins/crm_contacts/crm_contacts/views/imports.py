"""Import clients from a CSV file (upload, preview, confirm, result) and export them.

The uploaded file waits for the confirmation in the instance folder, under a random name that only
the uploader's (signed) session knows; the confirmation checks it again before writing, so what is
imported is what the server read, never a copy the browser sends back. The format and what an
import does are described in ``crm_contacts.importing``.
"""

from __future__ import annotations

import re
import secrets
import time
from datetime import date
from pathlib import Path

from flask import (
    Response,
    current_app,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)

from core.db import db_session
from core.permissions import permission_required
from crm_contacts.blueprints import bp
from crm_contacts.importing import (
    COLUMNS,
    KEYS,
    PREVIEW_ROWS,
    ImportPlan,
    apply_import,
    export_csv,
    plan_import,
)
from crm_contacts.permissions import IMPORT

SESSION_KEY = "crm_contacts_import"
RESULT_KEY = "crm_contacts_import_result"
TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
KEEP_SECONDS = 24 * 3600  # an upload nobody confirmed is deleted after a day
MESSAGES_SHOWN = 200
KEY_LABELS = {
    "vat_number": "VAT number (rows without one: the name)",
    "name": "Name",
}


def _folder() -> Path:
    folder = Path(current_app.instance_path) / "crm_contacts_imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _stored(token: str) -> Path | None:
    """The upload waiting under ``token``, if ``token`` is this session's."""
    pending = session.get(SESSION_KEY) or {}
    if not TOKEN.match(token or "") or pending.get("token") != token:
        return None
    path = _folder() / f"{token}.csv"
    return path if path.is_file() else None


def _forget_old_uploads() -> None:
    limit = time.time() - KEEP_SECONDS
    for path in _folder().glob("*.csv"):
        if path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)


def _discard() -> None:
    pending = session.pop(SESSION_KEY, None) or {}
    if TOKEN.match(pending.get("token") or ""):
        (_folder() / f"{pending['token']}.csv").unlink(missing_ok=True)


def _form(error: str = "", status: int = 200, key: str = "vat_number"):
    return render_template(
        "crm_contacts/import.html",
        columns=COLUMNS,
        keys=KEY_LABELS,
        key=key,
        error=error,
    ), status


def _preview(plan: ImportPlan, filename: str, token: str | None):
    return render_template(
        "crm_contacts/import_preview.html",
        plan=plan,
        filename=filename,
        token=token,
        key_label=KEY_LABELS[plan.key],
        keys=KEY_LABELS,
        shown=MESSAGES_SHOWN,
        preview_rows=PREVIEW_ROWS,
    ), (200 if plan.valid else 400)


@bp.route("/import", methods=["GET", "POST"])
@permission_required(IMPORT)
def import_clients():
    """Upload → preview; the preview's button posts ``confirm`` with the upload's token."""
    if request.method == "GET":
        return _form()
    action = request.form.get("action", "preview")
    if action == "cancel":
        _discard()
        return redirect(url_for("crm_contacts.import_clients"))
    if action == "confirm":
        return _confirm(request.form.get("token", ""))
    key = request.form.get("key", "vat_number")
    if key not in KEYS:
        return _form("Choose how rows are matched with existing clients.", 400)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _form("Choose a CSV file to import.", 400, key)
    content = upload.read()
    if not content.strip():
        return _form("The file is empty.", 400, key)
    _discard()
    _forget_old_uploads()
    plan = plan_import(db_session, content, key=key)
    if not plan.valid:
        return _preview(plan, upload.filename, None)
    token = secrets.token_urlsafe(24)
    (_folder() / f"{token}.csv").write_bytes(content)
    session[SESSION_KEY] = {"token": token, "key": key, "filename": upload.filename}
    return _preview(plan, upload.filename, token)


def _confirm(token: str):
    path = _stored(token)
    if path is None:
        return _form(
            "This import is no longer waiting (confirmed already, cancelled, or more than a day "
            "old). Upload the file again.",
            400,
        )
    pending = session[SESSION_KEY]
    # Checked again: clients may have changed since the preview.
    plan = plan_import(db_session, path.read_bytes(), key=pending["key"])
    if not plan.valid:
        db_session.rollback()
        _discard()
        return _preview(plan, pending["filename"], None)
    result = apply_import(db_session, plan)
    db_session.commit()
    _discard()
    session[RESULT_KEY] = {
        "filename": pending["filename"],
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "persons": result.persons,
        "warnings": len(plan.warnings),
    }
    return redirect(url_for("crm_contacts.import_result"))


@bp.route("/import/result")
@permission_required(IMPORT)
def import_result():
    result = session.get(RESULT_KEY)
    if result is None:
        return redirect(url_for("crm_contacts.import_clients"))
    return render_template("crm_contacts/import_result.html", result=result)


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
