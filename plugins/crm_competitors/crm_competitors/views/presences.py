"""Presences: the list (every competitor at every client the user may see), and the short form
that records one, from the client file or from the competitor's page."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import joinedload, selectinload

from core.auth import has_permission
from core.db import db_session
from core.locking import check_version
from core.models import User
from core.permissions import permission_required
from core.timezone import local_today
from crm_competitors.blueprints import bp
from crm_competitors.groups import group_choices
from crm_competitors.models import Competitor, Presence, PresenceGroup
from crm_competitors.permissions import READ, WRITE
from crm_competitors.schemas import PresenceSchema
from crm_competitors.service import PRESENCE_FIELDS, current_presence, save_presence
from crm_competitors.views.common import (
    form_errors,
    form_values,
    int_arg,
    load_presence,
    optional,
    paged,
    posted_groups,
    regions,
)
from crm_contacts.models import Client

OPTIONAL = ("share_percent", "since", "until")
PER_PAGE = 50


@bp.route("/presences")
@permission_required(READ)
def presence_list():
    competitor_id = int_arg("competitor")
    client_id = int_arg("client")
    region_id = int_arg("region")
    group = " ".join(request.args.get("group", "").split())
    state = request.args.get("state", "current")
    state = state if state in ("current", "ended", "all") else "current"
    # Joined with the client, so the client's record rules decide which presences are listed.
    conditions: list[ColumnElement[bool]] = []
    if competitor_id is not None:
        conditions.append(Presence.competitor_id == competitor_id)
    if client_id is not None:
        conditions.append(Presence.client_id == client_id)
    if region_id is not None:
        conditions.append(Client.region_id == region_id)
    if group:
        conditions.append(Presence.group_rows.any(func.lower(PresenceGroup.name) == group.lower()))
    if state == "current":
        conditions.append(current_presence())
    elif state == "ended":
        conditions.append(~current_presence())
    page = paged(
        select(Presence)
        .join(Client, Client.id == Presence.client_id)
        .where(*conditions)
        .order_by(Client.name, Presence.id),
        Presence.id,
        per_page=PER_PAGE,
        options=(
            joinedload(Presence.competitor).load_only(Competitor.id, Competitor.name),
            joinedload(Presence.client).joinedload(Client.region),
            joinedload(Presence.client)
            .joinedload(Client.responsible)
            .load_only(User.id, User.name),
            selectinload(Presence.group_rows),
        ),
    )
    filters = {"competitor": competitor_id, "client": client_id, "region": region_id,
               "group": group, "state": state}  # fmt: skip
    return render_template(
        "crm_competitors/presence_list.html",
        page=page,
        filters={k: v for k, v in filters.items() if v not in ("", None)},
        competitors=db_session.execute(
            select(Competitor.id, Competitor.name).order_by(Competitor.name)
        ).all(),
        regions=regions(),
        today=local_today(),
        can_write=has_permission(WRITE),
    )


def _render_form(presence: Presence | None, values: dict, errors: dict, status: int = 200):
    picked: dict[str, Any] = {"client": None, "competitor": None}
    # The pickers hold only their current value: its label is looked up here (two statements).
    if str(values.get("client_id", "")).isdigit():
        picked["client"] = db_session.execute(
            select(Client.id, Client.name).where(Client.id == int(values["client_id"]))
        ).one_or_none()
    if str(values.get("competitor_id", "")).isdigit():
        picked["competitor"] = db_session.execute(
            select(Competitor.id, Competitor.name).where(
                Competitor.id == int(values["competitor_id"])
            )
        ).one_or_none()
    return render_template(
        "crm_competitors/presence_form.html",
        presence=presence,
        values=values,
        errors=errors,
        picked=picked,
        group_choices=group_choices(),
        back=request.values.get("next", ""),
    ), status


def _after(presence: Presence, message: str):
    flash(message, "success")
    if request.form.get("next") == "client":
        return redirect(url_for("crm_contacts.client_file", client_id=presence.client_id))
    return redirect(
        url_for("crm_competitors.competitor_detail", competitor_id=presence.competitor_id)
    )


@bp.route("/presences/new", methods=["GET", "POST"])
@permission_required(WRITE)
def presence_new():
    if request.method == "GET":
        values = {
            "client_id": request.args.get("client_id", ""),
            "competitor_id": request.args.get("competitor_id", ""),
            "since": local_today().isoformat(),
            "groups": [],
        }
        return _render_form(None, values, {})
    values = {**form_values(PRESENCE_FIELDS), "groups": posted_groups()}
    try:
        presence = save_presence(
            None, PresenceSchema().load(optional(values, OPTIONAL)), current_user
        )
    except ValidationError as error:
        db_session.rollback()
        return _render_form(None, values, form_errors(error.messages_dict), 400)
    db_session.commit()
    return _after(presence, f"{presence.competitor.name} recorded at {presence.client.name}.")


@bp.route("/presences/<int:presence_id>/edit", methods=["GET", "POST"])
@permission_required(WRITE)
def presence_edit(presence_id: int):
    """Also how a presence ends: give it an end date; it stays in the history."""
    presence = load_presence(presence_id)
    if request.method == "GET":
        values = {
            **{k: "" if (v := getattr(presence, k)) is None else str(v) for k in PRESENCE_FIELDS},
            "groups": presence.groups,
            "version": str(presence.version),
        }
        return _render_form(presence, values, {})
    check_version(presence, request.form.get("version"))
    values = {**form_values(PRESENCE_FIELDS), "groups": posted_groups(),
              "version": request.form.get("version", "")}  # fmt: skip
    try:
        save_presence(presence, PresenceSchema().load(optional(values, OPTIONAL)), current_user)
    except ValidationError as error:
        db_session.rollback()
        presence = load_presence(presence_id)
        return _render_form(presence, values, form_errors(error.messages_dict), 400)
    db_session.commit()
    return _after(presence, f"{presence.competitor.name} at {presence.client.name} saved.")


@bp.route("/presences/<int:presence_id>/delete", methods=["GET", "POST"])
@permission_required(WRITE)
def presence_delete(presence_id: int):
    """For a presence recorded by mistake; one that ended is given an end date instead."""
    presence = load_presence(presence_id)
    if request.method == "GET":
        return render_template("crm_competitors/presence_delete.html", presence=presence)
    check_version(presence, request.form.get("version"))
    competitor_id = presence.competitor_id
    text = f"{presence.competitor.name} at {presence.client.name}"
    db_session.delete(presence)
    db_session.commit()
    flash(f"Presence of {text} deleted.", "success")
    return redirect(url_for("crm_competitors.competitor_detail", competitor_id=competitor_id))
