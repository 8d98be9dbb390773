"""The competitors list, a competitor's page (details, where it is present, its timeline), its
form, and deleting one."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import joinedload, selectinload

from core.attachments import attachments_of
from core.audit import history_for
from core.auth import has_permission
from core.db import db_session
from core.locking import check_version
from core.models import User
from core.permissions import permission_required
from crm_competitors.blueprints import bp
from crm_competitors.groups import group_choices
from crm_competitors.models import (
    KIND_LABELS,
    KINDS,
    POSITION_LABELS,
    STATUS_LABELS,
    STATUSES,
    Change,
    Competitor,
    Presence,
    change_region,
    competitor_region,
)
from crm_competitors.permissions import CONFIGURE, READ, WRITE
from crm_competitors.schemas import CompetitorSchema
from crm_competitors.search import competitor_matching
from crm_competitors.service import COMPETITOR_FIELDS, current_presence, save_competitor
from crm_competitors.views.common import (
    CHANGE_OPTIONS,
    form_errors,
    form_values,
    int_arg,
    load_competitor,
    paged,
    posted_groups,
    posted_region_ids,
    regions,
)
from crm_contacts.models import Client

PRESENCES_SHOWN = 50


@bp.route("/")
@permission_required(READ)
def competitor_list():
    query = " ".join(request.args.get("q", "").split())
    status = request.args.get("status", "")
    status = status if status in STATUSES else ""
    region_id = int_arg("region")
    conditions: list[ColumnElement[bool]] = []
    if query:
        conditions.append(competitor_matching(query))
    if status:
        conditions.append(Competitor.status == status)
    if region_id is not None:
        conditions.append(
            Competitor.id.in_(
                select(competitor_region.c.competitor_id).where(
                    competitor_region.c.region_id == region_id
                )
            )
        )
    page = paged(
        select(Competitor)
        .where(*conditions)
        .order_by(Competitor.status, Competitor.name, Competitor.id),
        Competitor.id,
        options=(selectinload(Competitor.regions),),
    )
    ids = [c.id for c in page["rows"]]
    # Presences at clients the user may not see do not count (Presence is owned by its client).
    presences = dict(
        db_session.execute(
            select(Presence.competitor_id, func.count())
            .where(Presence.competitor_id.in_(ids), current_presence())
            .group_by(Presence.competitor_id)
        ).all()
    )
    latest = {
        row[0]: row[1:]
        for row in db_session.execute(
            select(Change.competitor_id, func.count(), func.max(Change.occurred_on))
            .where(Change.competitor_id.in_(ids))
            .group_by(Change.competitor_id)
        )
    }
    filters = {"q": query, "status": status, "region": region_id}
    filters = {k: v for k, v in filters.items() if v not in ("", None)}
    return render_template(
        "crm_competitors/competitor_list.html",
        page=page,
        presences=presences,
        latest=latest,
        query=query,
        filters=filters,
        statuses=[(s, STATUS_LABELS[s]) for s in STATUSES],
        regions=regions(),
        can_write=has_permission(WRITE),
    )


def _render_form(competitor: Competitor | None, values: dict, errors: dict, status: int = 200):
    return render_template(
        "crm_competitors/competitor_form.html",
        competitor=competitor,
        values=values,
        errors=errors,
        regions=regions(),
        group_choices=group_choices(),
        positions=list(POSITION_LABELS.items()),
        statuses=[(s, STATUS_LABELS[s]) for s in STATUSES],
    ), status


def _posted() -> dict:
    return {
        **form_values(COMPETITOR_FIELDS),
        "region_ids": posted_region_ids(),
        "groups": posted_groups(),
    }


def _form_text(competitor: Competitor) -> dict:
    return {
        **{name: getattr(competitor, name) or "" for name in COMPETITOR_FIELDS},
        "region_ids": [r.id for r in competitor.regions],
        "groups": competitor.groups,
        "version": str(competitor.version),
    }


@bp.route("/new", methods=["GET", "POST"])
@permission_required(WRITE)
def competitor_new():
    if request.method == "GET":
        return _render_form(None, {"status": "active", "region_ids": [], "groups": []}, {})
    values = _posted()
    try:
        competitor = save_competitor(None, CompetitorSchema().load(values))
    except ValidationError as error:
        db_session.rollback()
        return _render_form(None, values, form_errors(error.messages_dict), 400)
    db_session.commit()
    flash(f"Competitor {competitor.name} added.", "success")
    return redirect(url_for("crm_competitors.competitor_detail", competitor_id=competitor.id))


@bp.route("/<int:competitor_id>/edit", methods=["GET", "POST"])
@permission_required(WRITE)
def competitor_edit(competitor_id: int):
    competitor = load_competitor(competitor_id)
    if request.method == "GET":
        return _render_form(competitor, _form_text(competitor), {})
    check_version(competitor, request.form.get("version"))
    values = {**_posted(), "version": request.form.get("version", "")}
    try:
        save_competitor(competitor, CompetitorSchema().load(values))
    except ValidationError as error:
        db_session.rollback()
        competitor = load_competitor(competitor_id)
        return _render_form(competitor, values, form_errors(error.messages_dict), 400)
    db_session.commit()
    flash(f"Competitor {competitor.name} saved.", "success")
    return redirect(url_for("crm_competitors.competitor_detail", competitor_id=competitor.id))


def _timeline(competitor: Competitor, kind: str, region_id: int | None) -> dict:
    conditions = [Change.competitor_id == competitor.id]
    if kind:
        conditions.append(Change.kind == kind)
    if region_id is not None:
        conditions.append(
            Change.id.in_(
                select(change_region.c.change_id).where(change_region.c.region_id == region_id)
            )
        )
    return paged(
        select(Change).where(*conditions).order_by(Change.occurred_on.desc(), Change.id.desc()),
        Change.id,
        options=CHANGE_OPTIONS,
    )


def _presences(competitor: Competitor, ended: bool) -> dict:
    condition = ~current_presence() if ended else current_presence()
    return paged(
        select(Presence)
        .where(Presence.competitor_id == competitor.id, condition)
        .order_by(Presence.share_percent.desc().nulls_last(), Presence.id.desc()),
        Presence.id,
        per_page=PRESENCES_SHOWN,
        arg="ppage",
        options=(
            joinedload(Presence.client).joinedload(Client.region),
            joinedload(Presence.client)
            .joinedload(Client.responsible)
            .load_only(User.id, User.name),
            selectinload(Presence.group_rows),
        ),
    )


@bp.route("/<int:competitor_id>")
@permission_required(READ)
def competitor_detail(competitor_id: int):
    competitor = load_competitor(competitor_id)
    kind = request.args.get("kind", "")
    kind = kind if kind in KINDS else ""
    region_id = int_arg("region")
    ended = request.args.get("presences") == "ended"
    return render_template(
        "crm_competitors/competitor_detail.html",
        competitor=competitor,
        timeline=_timeline(competitor, kind, region_id),
        presences=_presences(competitor, ended),
        ended=ended,
        kind=kind,
        region_id=region_id,
        kinds=list(KIND_LABELS.items()),
        regions=regions(),
        can_write=has_permission(WRITE),
        can_configure=has_permission(CONFIGURE),
        files=attachments_of(db_session, competitor),
        history=history_for(db_session, Competitor.__tablename__, competitor.id),
    )


@bp.route("/<int:competitor_id>/delete", methods=["GET", "POST"])
@permission_required(CONFIGURE)
def competitor_delete(competitor_id: int):
    """Deleting a competitor deletes its presences and timeline: asked for, with the numbers."""
    competitor = load_competitor(competitor_id)
    if request.method == "GET":
        counts = {
            "presences": db_session.scalar(
                select(func.count())
                .select_from(Presence)
                .where(Presence.competitor_id == competitor.id)
                .execution_options(crm_all_records=True)
            ),
            "changes": db_session.scalar(
                select(func.count())
                .select_from(Change)
                .where(Change.competitor_id == competitor.id)
            ),
        }
        return render_template(
            "crm_competitors/competitor_delete.html", competitor=competitor, counts=counts
        )
    check_version(competitor, request.form.get("version"))
    name = competitor.name
    db_session.delete(competitor)
    db_session.commit()
    flash(f"Competitor {name} deleted, with its presences and timeline.", "success")
    return redirect(url_for("crm_competitors.competitor_list"))
