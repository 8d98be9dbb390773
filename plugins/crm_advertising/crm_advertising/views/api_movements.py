"""JSON API of movements: /api/v1/advertising/movements (list, record, read, reverse) and
/api/v1/advertising/handouts (several materials to one client at once)."""

from __future__ import annotations

from flask import jsonify, url_for
from marshmallow import fields
from sqlalchemy import select

from core.api import api_doc, created, load_json, paginate
from core.db import db_session
from core.permissions import permission_required
from core.schemas import Schema
from core.timezone import local_today
from crm_advertising.blueprints import api
from crm_advertising.models import Movement
from crm_advertising.permissions import HAND_OUT, READ
from crm_advertising.schemas import HandOutSchema, MovementSchema
from crm_advertising.service import hand_out, record_movement, reverse
from crm_advertising.views.common import MOVEMENT_OPTIONS, actor
from crm_advertising.views.movements import load_movement
from crm_advertising.views.notify import announce_low_stock


class HandOutResultSchema(Schema):
    items = fields.List(fields.Nested(MovementSchema))


@api.route("/movements")
@permission_required(READ)
@api_doc(
    "List the movements you may see, newest first",
    response_schema=MovementSchema,
    many=True,
    query=("kind", "material_id", "client_id", "page", "per_page", "sort"),
)
def api_movement_list():
    stmt = select(Movement).options(*MOVEMENT_OPTIONS)
    return jsonify(
        paginate(
            stmt,
            MovementSchema(),
            model=Movement,
            filterable=("kind", "material_id", "client_id"),
            sortable=("id", "day"),
            default_sort="-id",
        )
    )


@api.route("/movements", methods=["POST"])
@permission_required(HAND_OUT)
@api_doc(
    "Record a receipt, transfer, hand-out, return or write-off",
    request_schema=MovementSchema,
    response_schema=MovementSchema,
)
def api_movement_create():
    movement = record_movement(db_session, actor(), load_json(MovementSchema()))
    announce_low_stock(db_session, [movement.material_id])
    db_session.commit()
    return created(
        MovementSchema().dump(load_movement(movement.id)),
        url_for(".api_movement_get", movement_id=movement.id),
    )


@api.route("/movements/<int:movement_id>")
@permission_required(READ)
@api_doc("A movement", response_schema=MovementSchema)
def api_movement_get(movement_id: int):
    return jsonify(MovementSchema().dump(load_movement(movement_id)))


@api.route("/movements/<int:movement_id>/reverse", methods=["POST"])
@permission_required(HAND_OUT)
@api_doc("Reverse a movement (movements are never edited)", response_schema=MovementSchema)
def api_movement_reverse(movement_id: int):
    mirror = reverse(db_session, actor(), load_movement(movement_id), local_today())
    db_session.commit()
    return created(
        MovementSchema().dump(load_movement(mirror.id)),
        url_for(".api_movement_get", movement_id=mirror.id),
    )


@api.route("/handouts", methods=["POST"])
@permission_required(HAND_OUT)
@api_doc(
    "Hand several materials to one client at once: all lines or none",
    request_schema=HandOutSchema,
    response_schema=HandOutResultSchema,
)
def api_handout():
    movements = hand_out(db_session, actor(), load_json(HandOutSchema()))
    announce_low_stock(db_session, [m.material_id for m in movements])
    db_session.commit()
    ids = [m.id for m in movements]
    rows = db_session.scalars(
        select(Movement)
        .where(Movement.id.in_(ids))
        .options(*MOVEMENT_OPTIONS)
        .order_by(Movement.id)
    ).all()
    return created(
        {"items": MovementSchema().dump(rows, many=True)},
        url_for(".api_movement_list", client_id=movements[0].client_id),
    )
