"""The movements: the history with its filters, one movement's page, the forms of a receipt,
transfer, return and write-off, and the reversal that corrects a mistake."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import or_, select

from core.db import db_session
from core.permissions import permission_required
from core.timezone import local_today
from crm_advertising.blueprints import bp
from crm_advertising.models import MOVEMENT_KINDS, OCCASIONS, WRITEOFF_REASONS, Movement
from crm_advertising.permissions import HAND_OUT, READ
from crm_advertising.schemas import MovementSchema
from crm_advertising.service import ensure_rep_locations, record_movement, reverse
from crm_advertising.views.common import (
    MOVEMENT_OPTIONS,
    actor,
    form_errors,
    form_values,
    int_arg,
    locations,
    material_choices,
    paged,
)
from crm_advertising.views.notify import announce_low_stock
from crm_contacts.models import Client

FORM_KINDS = ("receipt", "transfer", "return", "writeoff")
FIELDS = (
    "day",
    "material_id",
    "quantity",
    "unit_cost",
    "from_location_id",
    "to_location_id",
    "client_id",
    "reason",
    "campaign",
    "note",
)


def load_movement(movement_id: int) -> Movement:
    movement = db_session.scalars(
        select(Movement).where(Movement.id == movement_id).options(*MOVEMENT_OPTIONS)
    ).one_or_none()
    return movement or abort(404)


@bp.route("/movements")
@permission_required(READ)
def movement_list():
    kind = request.args.get("kind", "")
    kind = kind if kind in MOVEMENT_KINDS else ""
    material_id, location_id, client_id = (
        int_arg("material"),
        int_arg("location"),
        int_arg("client"),
    )
    stmt = (
        select(Movement)
        .options(*MOVEMENT_OPTIONS)
        .order_by(Movement.day.desc(), Movement.id.desc())
    )
    if kind:
        stmt = stmt.where(Movement.kind == kind)
    if material_id is not None:
        stmt = stmt.where(Movement.material_id == material_id)
    if location_id is not None:
        stmt = stmt.where(
            or_(Movement.from_location_id == location_id, Movement.to_location_id == location_id)
        )
    if client_id is not None:
        stmt = stmt.where(Movement.client_id == client_id)
    page = paged(stmt)
    filters = {
        k: v
        for k, v in {
            "kind": kind,
            "material": material_id,
            "location": location_id,
            "client": client_id,
        }.items()
        if v
    }
    return render_template(
        "crm_advertising/movement_list.html",
        **page,
        filters=filters,
        kinds=MOVEMENT_KINDS,
        materials=material_choices(active_only=False),
        places=locations(active_only=False),
    )


@bp.route("/movements/<int:movement_id>")
@permission_required(READ)
def movement_detail(movement_id: int):
    movement = load_movement(movement_id)
    return render_template(
        "crm_advertising/movement_detail.html", m=movement, actor=actor(), today=local_today()
    )


def _form(kind: str, values: dict[str, Any], errors: dict, status: int = 200):
    client_name = None
    if str(values.get("client_id") or "").isdigit():
        client_name = db_session.scalar(
            select(Client.name).where(Client.id == int(values["client_id"]))
        )
    return render_template(
        "crm_advertising/movement_form.html",
        kind=kind,
        label=MOVEMENT_KINDS[kind],
        values=values,
        errors=errors,
        materials=material_choices(),
        place_pairs=[(p.id, p.name) for p in locations()],
        reasons=WRITEOFF_REASONS,
        occasions=OCCASIONS,
        client_name=client_name,
    ), status


@bp.route("/movements/new", methods=["GET", "POST"])
@permission_required(HAND_OUT)
def movement_new():
    kind = request.values.get("kind", "")
    if kind not in FORM_KINDS:
        abort(404)
    who = actor()
    if request.method == "GET":
        if who.manages_stock:
            # A representative added since is offered as a destination: her car is made now.
            ensure_rep_locations(db_session)
            db_session.commit()
        defaults: dict[str, Any] = {"day": local_today().isoformat(), "quantity": "1"}
        for name in ("material_id", "client_id", "from_location_id", "to_location_id"):
            if request.args.get(name, "").isdigit():
                defaults[name] = request.args[name]
        return _form(kind, defaults, {})
    values = form_values(FIELDS)
    data: dict[str, Any] = {k: v for k, v in values.items() if v != ""}
    try:
        movement = record_movement(db_session, who, MovementSchema().load({**data, "kind": kind}))
    except ValidationError as error:
        db_session.rollback()
        return _form(kind, values, form_errors(error.messages_dict), 400)
    announce_low_stock(db_session, [movement.material_id])
    db_session.commit()
    flash(
        f"{movement.kind_label} of {movement.quantity} {movement.material.unit} of "
        f"{movement.material.name} recorded.",
        "success",
    )
    return redirect(url_for("crm_advertising.movement_detail", movement_id=movement.id))


@bp.route("/movements/<int:movement_id>/reverse", methods=["GET", "POST"])
@permission_required(HAND_OUT)
def movement_reverse(movement_id: int):
    movement = load_movement(movement_id)
    if request.method == "GET":
        return render_template("crm_advertising/movement_reverse.html", m=movement, error=None)
    try:
        mirror = reverse(db_session, actor(), movement, local_today())
    except ValidationError as error:
        db_session.rollback()
        message = " ".join(form_errors(error.messages_dict).get("movement", ["Refused."]))
        return render_template(
            "crm_advertising/movement_reverse.html", m=load_movement(movement_id), error=message
        ), 400
    db_session.commit()
    flash(f"Movement #{movement.id} reversed.", "success")
    return redirect(url_for("crm_advertising.movement_detail", movement_id=mirror.id))
