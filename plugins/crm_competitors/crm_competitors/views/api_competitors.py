"""JSON API: /api/v1/competitors (list, create, read, change, delete), a competitor's timeline
(…/<id>/changes: list, record, which answers who it concerns), recent changes across competitors
(…/changes) and presences (…/presences), which follow the record rules of their clients."""

from __future__ import annotations

from flask import jsonify, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from core.api import (
    ApiError,
    api_doc,
    created,
    json_body,
    load_json,
    paginate,
    query_date,
    query_int,
)
from core.db import db_session
from core.locking import check_version
from core.permissions import permission_required
from crm_competitors.blueprints import api
from crm_competitors.models import (
    KINDS,
    STATUSES,
    Change,
    Competitor,
    Presence,
    change_region,
    competitor_region,
)
from crm_competitors.permissions import CONFIGURE, READ, WRITE
from crm_competitors.schemas import (
    AffectedSchema,
    ChangeSchema,
    CompetitorSchema,
    CompetitorUpdateSchema,
    PresenceSchema,
    PresenceUpdateSchema,
)
from crm_competitors.service import (
    affected,
    current_presence,
    notify_representatives,
    record_change,
    save_competitor,
    save_presence,
)
from crm_competitors.views.common import CHANGE_OPTIONS, load_change, load_competitor, load_presence
from crm_contacts.models import Client

COMPETITOR_OPTIONS = (selectinload(Competitor.regions), selectinload(Competitor.group_rows))
PRESENCE_OPTIONS = (
    joinedload(Presence.competitor),
    joinedload(Presence.client),
    selectinload(Presence.group_rows),
)


def _one_of(name: str, allowed: tuple[str, ...]) -> str:
    value = request.args.get(name, "")
    if value and value not in allowed:
        raise ApiError({name: [f"Must be one of: {', '.join(allowed)}."]})
    return value


# --- competitors ---------------------------------------------------------------------------------


@api.route("")
@permission_required(READ)
@api_doc("List competitors; filters: status, region_id; sort: name, created_at (-desc)",
         response_schema=CompetitorSchema, many=True,
         query=("status", "region_id", "sort", "page", "per_page"))  # fmt: skip
def api_competitor_list():
    stmt = select(Competitor).options(*COMPETITOR_OPTIONS)
    if status := _one_of("status", STATUSES):
        stmt = stmt.where(Competitor.status == status)
    if (region_id := query_int("region_id")) is not None:
        stmt = stmt.where(
            Competitor.id.in_(
                select(competitor_region.c.competitor_id).where(
                    competitor_region.c.region_id == region_id
                )
            )
        )
    return jsonify(
        paginate(
            stmt,
            CompetitorSchema(),
            model=Competitor,
            sortable=("name", "created_at"),
            default_sort="name",
        )  # fmt: skip
    )


@api.route("", methods=["POST"])
@permission_required(WRITE)
@api_doc("Add a competitor", request_schema=CompetitorSchema, response_schema=CompetitorSchema)
def api_competitor_create():
    competitor = save_competitor(None, load_json(CompetitorSchema()))
    db_session.commit()
    return created(
        CompetitorSchema().dump(load_competitor(competitor.id)),
        url_for(".api_competitor_get", competitor_id=competitor.id),
    )


@api.route("/<int:competitor_id>")
@permission_required(READ)
@api_doc("A competitor", response_schema=CompetitorSchema)
def api_competitor_get(competitor_id: int):
    return jsonify(CompetitorSchema().dump(load_competitor(competitor_id)))


@api.route("/<int:competitor_id>", methods=["PATCH"])
@permission_required(WRITE)
@api_doc("Change a competitor: the fields given, and the version read",
         request_schema=CompetitorUpdateSchema, response_schema=CompetitorSchema)  # fmt: skip
def api_competitor_update(competitor_id: int):
    competitor = load_competitor(competitor_id)
    check_version(competitor, json_body().get("version"))
    save_competitor(competitor, load_json(CompetitorUpdateSchema(), partial=True))
    db_session.commit()
    return jsonify(CompetitorSchema().dump(load_competitor(competitor_id)))


@api.route("/<int:competitor_id>", methods=["DELETE"])
@permission_required(CONFIGURE)
@api_doc("Delete a competitor with its presences and timeline")
def api_competitor_delete(competitor_id: int):
    db_session.delete(load_competitor(competitor_id))
    db_session.commit()
    return "", 204


# --- strategy changes ----------------------------------------------------------------------------


def _changes(stmt):
    if kind := _one_of("kind", KINDS):
        stmt = stmt.where(Change.kind == kind)
    if (region_id := query_int("region_id")) is not None:
        stmt = stmt.where(
            Change.id.in_(
                select(change_region.c.change_id).where(change_region.c.region_id == region_id)
            )
        )
    if (since := query_date("since")) is not None:
        stmt = stmt.where(Change.occurred_on >= since)
    return jsonify(
        paginate(
            stmt.options(*CHANGE_OPTIONS),
            ChangeSchema(),
            model=Change,
            sortable=("occurred_on", "id"),
            default_sort="-occurred_on",
        )
    )


def _with_affected(change: Change, **extra) -> dict:
    rows, total = affected(change)
    return {
        **ChangeSchema().dump(change),
        "affected": AffectedSchema().dump(rows, many=True),
        "affected_total": total,
        **extra,
    }


@api.route("/<int:competitor_id>/changes")
@permission_required(READ)
@api_doc("A competitor's timeline, newest first; filters: kind, region_id, since",
         response_schema=ChangeSchema, many=True,
         query=("kind", "region_id", "since", "sort", "page", "per_page"))  # fmt: skip
def api_timeline(competitor_id: int):
    competitor = load_competitor(competitor_id)
    return _changes(select(Change).where(Change.competitor_id == competitor.id))


@api.route("/<int:competitor_id>/changes", methods=["POST"])
@permission_required(WRITE)
@api_doc("Record a strategy change: answers with the clients it concerns (affected) and notifies "
         "their representatives (notified: how many)", request_schema=ChangeSchema,
         response_schema=ChangeSchema)  # fmt: skip
def api_change_create(competitor_id: int):
    competitor = load_competitor(competitor_id)
    change = record_change(competitor, load_json(ChangeSchema()), current_user)
    notified = notify_representatives(change)
    db_session.commit()
    return created(
        _with_affected(load_change(change.id), notified=notified),
        url_for(".api_change_get", change_id=change.id),
    )


@api.route("/changes")
@permission_required(READ)
@api_doc("Recent strategy changes of every competitor; filters: kind, region_id, competitor_id, "
         "since", response_schema=ChangeSchema, many=True,
         query=("kind", "region_id", "competitor_id", "since", "sort", "page",
                "per_page"))  # fmt: skip
def api_change_list():
    stmt = select(Change)
    if (competitor_id := query_int("competitor_id")) is not None:
        stmt = stmt.where(Change.competitor_id == competitor_id)
    return _changes(stmt)


@api.route("/changes/<int:change_id>")
@permission_required(READ)
@api_doc("A strategy change, with the clients it concerns that you may see",
         response_schema=ChangeSchema)  # fmt: skip
def api_change_get(change_id: int):
    return jsonify(_with_affected(load_change(change_id)))


@api.route("/changes/<int:change_id>", methods=["DELETE"])
@permission_required(CONFIGURE)
@api_doc("Delete a strategy change")
def api_change_delete(change_id: int):
    db_session.delete(load_change(change_id))
    db_session.commit()
    return "", 204


# --- presences -----------------------------------------------------------------------------------


@api.route("/presences")
@permission_required(READ)
@api_doc("Presences at the clients you may see; filters: competitor_id, client_id, region_id, "
         "state (current, ended, all)", response_schema=PresenceSchema, many=True,
         query=("competitor_id", "client_id", "region_id", "state", "sort", "page",
                "per_page"))  # fmt: skip
def api_presence_list():
    stmt = select(Presence).join(Client, Client.id == Presence.client_id).options(*PRESENCE_OPTIONS)
    filters = (
        ("competitor_id", Presence.competitor_id),
        ("client_id", Presence.client_id),
        ("region_id", Client.region_id),
    )
    for name, column in filters:
        if (value := query_int(name)) is not None:
            stmt = stmt.where(column == value)
    state = _one_of("state", ("current", "ended", "all")) or "all"
    if state == "current":
        stmt = stmt.where(current_presence())
    elif state == "ended":
        stmt = stmt.where(~current_presence())
    return jsonify(
        paginate(
            stmt,
            PresenceSchema(),
            model=Presence,
            sortable=("id", "since", "share_percent"),
            default_sort="id",
        )  # fmt: skip
    )


@api.route("/presences", methods=["POST"])
@permission_required(WRITE)
@api_doc("Record that a competitor supplies a client", request_schema=PresenceSchema,
         response_schema=PresenceSchema)  # fmt: skip
def api_presence_create():
    presence = save_presence(None, load_json(PresenceSchema()), current_user)
    db_session.commit()
    return created(
        PresenceSchema().dump(load_presence(presence.id)),
        url_for(".api_presence_get", presence_id=presence.id),
    )


@api.route("/presences/<int:presence_id>")
@permission_required(READ)
@api_doc("A presence", response_schema=PresenceSchema)
def api_presence_get(presence_id: int):
    return jsonify(PresenceSchema().dump(load_presence(presence_id)))


@api.route("/presences/<int:presence_id>", methods=["PATCH"])
@permission_required(WRITE)
@api_doc("Change a presence (an end date ends it): the fields given, and the version read",
         request_schema=PresenceUpdateSchema, response_schema=PresenceSchema)  # fmt: skip
def api_presence_update(presence_id: int):
    presence = load_presence(presence_id)
    check_version(presence, json_body().get("version"))
    save_presence(presence, load_json(PresenceUpdateSchema(), partial=True), current_user)
    db_session.commit()
    return jsonify(PresenceSchema().dump(load_presence(presence_id)))


@api.route("/presences/<int:presence_id>", methods=["DELETE"])
@permission_required(WRITE)
@api_doc("Delete a presence recorded by mistake")
def api_presence_delete(presence_id: int):
    db_session.delete(load_presence(presence_id))
    db_session.commit()
    return "", 204
