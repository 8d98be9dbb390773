"""Settings → Regions: the configurable list of sales regions a client belongs to (one each).

Other modules read them (crm_competitors: where a competitor is active, which clients a move in a
region concerns), so a region's id is what they store; renaming one renames it everywhere.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError, fields, validate
from sqlalchemy import func, select

from core.db import db_session
from core.permissions import permission_required
from core.schemas import Schema
from crm_contacts.blueprints import bp
from crm_contacts.models import Client, Region
from crm_contacts.permissions import CONFIGURE
from crm_contacts.views.settings import _posted, clear_on_clients


class RegionFormSchema(Schema):
    name = fields.String(
        required=True,
        validate=[
            validate.Length(min=1, error="Give the region a name."),
            validate.Length(max=100, error="At most 100 characters."),
        ],
    )
    order = fields.Integer(
        load_default=100,
        validate=validate.Range(0, 10000, error="A number from 0 to 10000."),
        error_messages={"invalid": "A whole number."},
    )


# ``(id, name)`` of every region, and the order lists offer them in (``core.choices.read_lists``).
REGION_CHOICES = (select(Region.id, Region.name), (Region.order, Region.name))


def _load(except_id: int | None = None) -> tuple[dict[str, str], dict | None, dict[str, Any]]:
    raw = _posted("name", "order")
    try:
        data = RegionFormSchema().load(raw)
    except ValidationError as exc:
        return raw, exc.messages_dict, {}
    taken = select(Region.id).where(func.lower(Region.name) == data["name"].lower())
    if except_id is not None:
        taken = taken.where(Region.id != except_id)
    if db_session.scalar(taken) is not None:
        return raw, {"name": [f"A region named “{data['name']}” exists already."]}, {}
    return raw, None, data


def _page(values: dict[str, Any] | None = None, errors: dict | None = None, status=200):
    counts = dict(
        db_session.execute(
            select(Client.region_id, func.count())
            .where(Client.region_id.is_not(None))
            .group_by(Client.region_id)
        ).all()
    )
    regions = db_session.scalars(select(Region).order_by(Region.order, Region.name)).all()
    return render_template(
        "crm_contacts/settings_regions.html",
        rows=[(r, counts.get(r.id, 0)) for r in regions],
        values=values or {"order": 100},
        errors=errors or {},
    ), status


@bp.route("/settings/regions", methods=["GET", "POST"])
@permission_required(CONFIGURE)
def regions():
    """The list, with how many clients each has, and the form that adds a region."""
    if request.method == "GET":
        return _page()
    raw, errors, data = _load()
    if errors:
        return _page(raw, errors, 400)
    db_session.add(Region(**data))
    db_session.commit()
    flash(f"Region “{data['name']}” added.", "success")
    return redirect(url_for("crm_contacts.regions"))


@bp.route("/settings/regions/<int:region_id>/edit", methods=["GET", "POST"])
@permission_required(CONFIGURE)
def region_edit(region_id: int):
    region = db_session.get(Region, region_id) or abort(404)
    values: dict[str, Any] = {"name": region.name, "order": region.order}
    errors: dict | None = None
    if request.method == "POST":
        values, errors, data = _load(except_id=region.id)
        if not errors:
            region.name, region.order = data["name"], data["order"]
            db_session.commit()
            flash(f"Region “{region.name}” saved.", "success")
            return redirect(url_for("crm_contacts.regions"))
    return render_template(
        "crm_contacts/settings_region_form.html", region=region, values=values, errors=errors or {}
    ), (400 if errors else 200)


@bp.route("/settings/regions/<int:region_id>/delete", methods=["GET", "POST"])
@permission_required(CONFIGURE)
def region_delete(region_id: int):
    region = db_session.get(Region, region_id) or abort(404)
    members = db_session.scalars(select(Client.id).where(Client.region_id == region.id)).all()
    if request.method == "GET":
        return render_template(
            "crm_contacts/settings_region_delete.html", region=region, members=len(members)
        )
    clear_on_clients("region_id", region.id, list(members))
    name = region.name
    db_session.delete(region)
    db_session.commit()
    flash(
        f"Region “{name}” deleted"
        + (f"; its {len(members)} client(s) now have no region." if members else "."),
        "success",
    )
    return redirect(url_for("crm_contacts.regions"))
