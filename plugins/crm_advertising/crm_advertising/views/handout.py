"""Maria's journey step 5: from the client file, one form hands several materials to the client
("two display stands and 50 catalogues"); the stock goes down in the same transaction."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import select

from core.db import db_session
from core.permissions import permission_required
from core.timezone import local_today, local_zone
from crm_advertising.blueprints import bp
from crm_advertising.models import OCCASIONS, Material, Stock
from crm_advertising.permissions import HAND_OUT
from crm_advertising.schemas import HandOutSchema
from crm_advertising.service import ensure_rep_location, hand_out
from crm_advertising.views.common import actor, form_errors, locations
from crm_advertising.views.notify import announce_low_stock
from crm_contacts.models import Client, Contact, Person, contact_person

LINES = 6  # rows of the form; empty ones are ignored
HEAD = ("day", "from_location_id", "person_id", "occasion", "campaign", "note")


def _client(client_id: int) -> Client:
    found = db_session.scalars(select(Client).where(Client.id == client_id)).one_or_none()
    return found or abort(404)


def todays_person(client_id: int) -> int | None:
    """The contact person of today's latest contact with the client, else its primary one."""
    start = datetime.combine(local_today(), time.min, tzinfo=local_zone())
    person_id = db_session.scalar(
        select(contact_person.c.person_id)
        .join(Contact, Contact.id == contact_person.c.contact_id)
        .where(
            Contact.client_id == client_id,
            Contact.starts_at >= start,
            Contact.starts_at < start + timedelta(days=1),
        )
        .order_by(Contact.starts_at.desc())
        .limit(1)
    )
    if person_id is None:
        person_id = db_session.scalar(
            select(Person.id).where(Person.client_id == client_id, Person.is_primary).limit(1)
        )
    return person_id


def _choices(source_id: int | None) -> list[Any]:
    """Active materials, with what the chosen location holds of each."""
    held = (
        dict(
            db_session.execute(
                select(Stock.material_id, Stock.quantity).where(Stock.location_id == source_id)
            ).all()
        )
        if source_id
        else {}
    )
    rows = db_session.execute(
        select(Material.id, Material.name, Material.unit)
        .where(Material.active)
        .order_by(Material.name)
    ).all()
    return [(id_, f"{name} — {held.get(id_, 0)} {unit} here") for id_, name, unit in rows]


def _render(client: Client, values: dict[str, Any], lines: list[dict], errors: dict, status=200):
    source = values.get("from_location_id")
    return render_template(
        "crm_advertising/handout.html",
        client=client,
        values=values,
        lines=lines,
        errors=errors,
        places=[(p.id, p.name) for p in locations()],
        materials=_choices(int(source) if str(source or "").isdigit() else None),
        occasions=list(OCCASIONS.items()),
    ), status


def _posted_lines() -> list[dict[str, str]]:
    lines = []
    for index in range(LINES):
        material = request.form.get(f"lines.{index}.material_id", "").strip()
        quantity = request.form.get(f"lines.{index}.quantity", "").strip()
        lines.append({"material_id": material, "quantity": quantity})
    return lines


@bp.route("/handout/<int:client_id>", methods=["GET", "POST"])
@permission_required(HAND_OUT)
def handout(client_id: int):
    client = _client(client_id)
    if request.method == "GET":
        own = ensure_rep_location(db_session, current_user)
        db_session.commit()
        values = {
            "day": local_today().isoformat(),
            "occasion": "visit",
            "from_location_id": str(own.id) if own else "",
            "person_id": str(todays_person(client.id) or ""),
        }
        blank = [{"material_id": "", "quantity": ""} for _ in range(LINES)]
        return _render(client, values, blank, {})
    values = {name: request.form.get(name, "").strip() for name in HEAD}
    lines = _posted_lines()
    filled = [line for line in lines if line["material_id"] or line["quantity"]]
    data = {k: v for k, v in values.items() if v != ""}
    try:
        loaded = HandOutSchema().load({**data, "client_id": client.id, "lines": filled})
        movements = hand_out(db_session, actor(), loaded)
    except ValidationError as error:
        db_session.rollback()
        errors = form_errors(error.messages_dict)
        # Messages of the nth filled line belong to the row it was typed in.
        rows = [i for i, line in enumerate(lines) if line["material_id"] or line["quantity"]]
        for key in [k for k in errors if k.startswith("lines.") and k.count(".") == 2]:
            _, index, field = key.split(".")
            errors[f"lines.{rows[int(index)]}.{field}"] = errors.pop(key)
        return _render(client, values, lines, errors, 400)
    announce_low_stock(db_session, [m.material_id for m in movements])
    db_session.commit()
    summary = ", ".join(f"{m.quantity} {m.material.unit} of {m.material.name}" for m in movements)
    flash(f"Handed out to {client.name}: {summary}.", "success")
    return redirect(
        url_for("crm_contacts.client_file", client_id=client.id) + "#section-crm_advertising"
    )
