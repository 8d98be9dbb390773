"""Settings → Commitment types: the configurable list of kinds of commitments. A type in use is
never deleted: it is switched off (inactive types are no longer offered for new tasks)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import func, select

from core.db import db_session
from core.locking import check_version
from core.permissions import permission_required
from crm_tasks.blueprints import bp
from crm_tasks.models import CommitmentType, Task
from crm_tasks.permissions import MANAGE
from crm_tasks.schemas import CommitmentTypeSchema
from crm_tasks.views.common import form_errors

FIELDS = ("code", "name", "needs_development", "active", "sort_order")


@bp.route("/settings/types")
@permission_required(MANAGE)
def type_list():
    usage = dict(
        db_session.execute(
            select(Task.commitment_type_id, func.count()).group_by(Task.commitment_type_id)
        ).all()
    )
    types = db_session.scalars(
        select(CommitmentType).order_by(CommitmentType.sort_order, CommitmentType.name)
    ).all()
    return render_template("crm_tasks/type_list.html", types=types, usage=usage)


def _payload() -> dict:
    data = {name: request.form.get(name, "").strip() for name in ("code", "name", "sort_order")}
    if data["sort_order"] == "":
        del data["sort_order"]  # the default order
    data["needs_development"] = request.form.get("needs_development") == "y"
    data["active"] = request.form.get("active") == "y"
    return data


def _save(kind: CommitmentType | None):
    values = _payload()
    try:
        loaded = CommitmentTypeSchema().load(values)
        clash = db_session.scalar(
            select(CommitmentType.id).where(
                CommitmentType.code == loaded["code"],
                CommitmentType.id != (kind.id if kind else -1),
            )
        )
        if clash is not None:
            raise ValidationError({"code": ["Another type has this code."]})
    except ValidationError as error:
        return render_template(
            "crm_tasks/type_form.html", kind=kind, values=values, errors=form_errors(error)
        ), 400
    if kind is None:
        kind = CommitmentType()
        db_session.add(kind)
    for name, value in loaded.items():
        setattr(kind, name, value)
    db_session.commit()
    flash(f"Commitment type “{kind.name}” saved.", "success")
    return redirect(url_for(".type_list"))


@bp.route("/settings/types/new", methods=["GET", "POST"])
@permission_required(MANAGE)
def type_new():
    if request.method == "POST":
        return _save(None)
    values = {"active": True, "sort_order": 100}
    return render_template("crm_tasks/type_form.html", kind=None, values=values, errors={})


@bp.route("/settings/types/<int:type_id>/edit", methods=["GET", "POST"])
@permission_required(MANAGE)
def type_edit(type_id: int):
    kind = db_session.get(CommitmentType, type_id) or abort(404)
    if request.method == "POST":
        check_version(kind)
        return _save(kind)
    values = {name: getattr(kind, name) for name in FIELDS}
    return render_template("crm_tasks/type_form.html", kind=kind, values=values, errors={})
