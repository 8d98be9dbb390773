"""Pages of the attachment service: download, upload, delete (with a confirmation).

Each route is open to any logged-in user at the gate and checks the record itself: the permission
``<module>.read`` (download) or ``<module>.write`` (upload, delete) of the module that owns the
record's model, and that the record is visible through the request's session
(``core.record_rules.can_see``), so record rules apply, including those a model inherits through
``owned_by``. A record the user may not see answers 404, as a missing one does.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user

from core.attachments import (
    AttachmentError,
    attach,
    detach,
    human_size,
    max_bytes,
    open_file,
    record_ref,
)
from core.auth import has_permission, local_path
from core.db import db_session
from core.models import Attachment
from core.permissions import AUTHENTICATED, permission_required
from core.record_rules import can_see
from core.state import current_state
from core.timezone import local_zone

bp = Blueprint("core_attachments", __name__, url_prefix="/attachments")


@bp.app_template_global("crm_record_ref")
def _record_ref(record: Any) -> tuple[str, str]:
    return record_ref(record)


@bp.app_template_global("crm_attachment_limit")
def _limit() -> str:
    return human_size(max_bytes())


@bp.app_template_filter("crm_file_size")
def _file_size(size: int) -> str:
    return human_size(size)


@bp.app_template_filter("crm_local_time")
def _local_time(moment, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return moment.astimezone(local_zone()).strftime(fmt) if moment is not None else ""


def _state():

    return current_state()


def _safe_next(default: str) -> str:
    """Where to go back to: a path of this site only, never another site."""
    return local_path(request.values.get("next")) or default


def _record(model: str, record_id: str, action: str) -> Any:
    """The record, if the current user may ``action`` (read or write) it; else 403 or 404."""
    models = _state().models
    if model not in models:
        abort(404)  # its module is not installed (any more)
    info = models.get(model)
    if not has_permission(f"{info.owner}.{action}"):
        abort(403)
    primary = info.model.__mapper__.primary_key
    if len(primary) != 1:
        abort(404)
    try:
        key = primary[0].type.python_type(record_id)
    except (TypeError, ValueError, NotImplementedError):
        abort(404)
    # Decided by the record's own visibility, so a model that is owned_by a client follows the
    # client's rules here too. Hidden and missing answer alike: ids cannot be probed.
    if not can_see(db_session, info.model, key):
        abort(404)
    return db_session.get(info.model, key)


def _attachment_or_404(attachment_id: int) -> Attachment:
    return db_session.get(Attachment, attachment_id) or abort(404)


@bp.route("/<int:attachment_id>")
@permission_required(AUTHENTICATED)
def download(attachment_id: int):
    attachment = _attachment_or_404(attachment_id)
    _record(attachment.model, attachment.record_id, "read")
    try:
        stream = open_file(attachment)
    except FileNotFoundError:
        abort(404, "The file of this attachment is missing from the storage.")
    response = send_file(
        stream,
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=attachment.name,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/<model>/<record_id>", methods=["POST"])
@permission_required(AUTHENTICATED)
def upload(model: str, record_id: str):
    record = _record(model, record_id, "write")
    back = _safe_next(url_for("core.home"))
    file = request.files.get("file")
    if file is None or not file.filename:
        flash("File: choose a file to attach.", "danger")
        return redirect(back)
    try:
        attachment = attach(db_session, record, file, current_user)
    except AttachmentError as error:
        db_session.rollback()
        flash(f"File: {error}", "danger")
        return redirect(back)
    db_session.commit()
    flash(f"Attached {attachment.name}.", "success")
    return redirect(back)


@bp.route("/<int:attachment_id>/delete", methods=["GET", "POST"])
@permission_required(AUTHENTICATED)
def remove(attachment_id: int):
    attachment = _attachment_or_404(attachment_id)
    _record(attachment.model, attachment.record_id, "write")
    back = _safe_next(url_for("core.home"))
    if request.method == "POST":
        name = attachment.name
        detach(db_session, attachment)
        db_session.commit()
        flash(f"Deleted the attachment {name}.", "success")
        return redirect(back)
    return render_template("core/attachment_delete.html", attachment=attachment, back=back)
