"""Strategy changes: recording one (and, on the page it leads to, who it concerns), its page, and
the list of recent changes across competitors for managers."""

from __future__ import annotations

from datetime import timedelta

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import ColumnElement, select

from core.attachments import AttachmentError, attach, attachments_of
from core.audit import history_for
from core.auth import has_permission
from core.db import db_session
from core.permissions import permission_required
from core.timezone import local_today
from crm_competitors.blueprints import bp
from crm_competitors.groups import group_choices
from crm_competitors.models import KIND_LABELS, KINDS, Change, Competitor, change_region
from crm_competitors.permissions import CONFIGURE, READ, WRITE
from crm_competitors.schemas import ChangeSchema
from crm_competitors.service import CHANGE_FIELDS, affected, notify_representatives, record_change
from crm_competitors.views.common import (
    CHANGE_OPTIONS,
    form_errors,
    form_values,
    int_arg,
    load_change,
    load_competitor,
    optional,
    paged,
    posted_groups,
    posted_region_ids,
    regions,
)

RECENT_DAYS = 90


@bp.route("/changes")
@permission_required(READ)
def change_list():
    """Recent moves of every competitor, newest first; filters by kind, region, competitor."""
    kind = request.args.get("kind", "")
    kind = kind if kind in KINDS else ""
    region_id = int_arg("region")
    competitor_id = int_arg("competitor")
    days = int_arg("days")
    days = RECENT_DAYS if days is None else min(days, 3650)
    conditions: list[ColumnElement[bool]] = []
    if days:
        conditions.append(Change.occurred_on >= local_today() - timedelta(days=days))
    if kind:
        conditions.append(Change.kind == kind)
    if competitor_id is not None:
        conditions.append(Change.competitor_id == competitor_id)
    if region_id is not None:
        conditions.append(
            Change.id.in_(
                select(change_region.c.change_id).where(change_region.c.region_id == region_id)
            )
        )
    page = paged(
        select(Change).where(*conditions).order_by(Change.occurred_on.desc(), Change.id.desc()),
        Change.id,
        options=CHANGE_OPTIONS,
    )
    filters = {"kind": kind, "region": region_id, "competitor": competitor_id, "days": days}
    return render_template(
        "crm_competitors/change_list.html",
        page=page,
        filters={k: v for k, v in filters.items() if v not in ("", None)},
        days=days,
        kinds=list(KIND_LABELS.items()),
        regions=regions(),
        competitors=db_session.execute(
            select(Competitor.id, Competitor.name).order_by(Competitor.name)
        ).all(),
    )


def _render_form(competitor: Competitor, values: dict, errors: dict, status: int = 200):
    return render_template(
        "crm_competitors/change_form.html",
        competitor=competitor,
        values=values,
        errors=errors,
        kinds=list(KIND_LABELS.items()),
        regions=regions(),
        group_choices=group_choices(),
    ), status


@bp.route("/<int:competitor_id>/changes/new", methods=["GET", "POST"])
@permission_required(WRITE)
def change_new(competitor_id: int):
    """One form: what the competitor did, where and in what; saving it notifies the
    representatives concerned and leads to the change's page, which lists their clients."""
    competitor = load_competitor(competitor_id)
    if request.method == "GET":
        values = {"occurred_on": local_today().isoformat(), "kind": "price_change",
                  "region_ids": [], "groups": []}  # fmt: skip
        return _render_form(competitor, values, {})
    values = {**form_values(CHANGE_FIELDS), "region_ids": posted_region_ids(),
              "groups": posted_groups()}  # fmt: skip
    try:
        change = record_change(
            competitor, ChangeSchema().load(optional(values, ("percent",))), current_user
        )
        file = request.files.get("file")
        if file is not None and file.filename:
            try:
                attach(db_session, change, file, current_user)
            except AttachmentError as error:
                raise ValidationError({"file": [str(error)]}) from None
    except ValidationError as error:
        db_session.rollback()
        competitor = load_competitor(competitor_id)
        return _render_form(competitor, values, form_errors(error.messages_dict), 400)
    notified = notify_representatives(change)
    db_session.commit()
    flash(f"Recorded. {notified} representative{'s' if notified != 1 else ''} notified.", "success")
    return redirect(url_for("crm_competitors.change_detail", change_id=change.id))


@bp.route("/changes/<int:change_id>")
@permission_required(READ)
def change_detail(change_id: int):
    change = load_change(change_id)
    rows, total = affected(change)
    return render_template(
        "crm_competitors/change_detail.html",
        change=change,
        affected=rows,
        affected_total=total,
        can_write=has_permission(WRITE),
        can_configure=has_permission(CONFIGURE),
        files=attachments_of(db_session, change),
        history=history_for(db_session, Change.__tablename__, change.id),
    )


@bp.route("/changes/<int:change_id>/delete", methods=["GET", "POST"])
@permission_required(CONFIGURE)
def change_delete(change_id: int):
    change = load_change(change_id)
    if request.method == "GET":
        return render_template("crm_competitors/change_delete.html", change=change)
    competitor_id = change.competitor_id
    db_session.delete(change)
    db_session.commit()
    flash("Strategy change deleted.", "success")
    return redirect(url_for("crm_competitors.competitor_detail", competitor_id=competitor_id))
