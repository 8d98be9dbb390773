"""Settings of the module: the kinds of material and the locations (warehouses; representatives'
locations are made with the representatives)."""

from __future__ import annotations

import re

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from core.db import db_session
from core.permissions import permission_required
from core.timezone import local_today
from crm_advertising.blueprints import bp
from crm_advertising.models import Location, Material, MaterialKind, Stock
from crm_advertising.permissions import CONFIGURE
from crm_advertising.service import ensure_rep_locations


def _page(errors: dict[str, str] | None = None, status: int = 200):
    kinds = db_session.execute(
        select(MaterialKind, func.count(Material.id))
        .outerjoin(Material, Material.kind_id == MaterialKind.id)
        .group_by(MaterialKind.id)
        .order_by(MaterialKind.order, MaterialKind.name)
    ).all()
    places = db_session.execute(
        select(Location, func.coalesce(func.sum(Stock.quantity), 0))
        .outerjoin(Stock, Stock.location_id == Location.id)
        .group_by(Location.id)
        .order_by(Location.kind.desc(), Location.name)
    ).all()
    return render_template(
        "crm_advertising/settings.html",
        kinds=kinds,
        places=places,
        errors=errors or {},
        form=request.form,
    ), status


@bp.route("/settings")
@permission_required(CONFIGURE)
def settings_page():
    ensure_rep_locations(db_session)
    db_session.commit()
    return _page()


def _name(field: str, limit: int = 100) -> str | None:
    value = " ".join(request.form.get(field, "").split())
    return value if 0 < len(value) <= limit and "\x00" not in value else None


@bp.route("/settings/kinds", methods=["POST"])
@permission_required(CONFIGURE)
def kind_add():
    name = _name("kind_name")
    if name is None:
        return _page({"kind_name": "Give a name of 1 to 100 characters."}, 400)
    code = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:50] or "kind"
    if db_session.scalar(select(MaterialKind.id).where(MaterialKind.code == code)):
        return _page({"kind_name": f"A kind named {name} exists already."}, 400)
    db_session.add(MaterialKind(code=code, name=name, order=100))
    db_session.commit()
    flash(f"Kind {name} added.", "success")
    return redirect(url_for("crm_advertising.settings_page"))


@bp.route("/settings/warehouses", methods=["POST"])
@permission_required(CONFIGURE)
def warehouse_add():
    name = _name("warehouse_name", 200)
    if name is None:
        return _page({"warehouse_name": "Give a name of 1 to 200 characters."}, 400)
    db_session.add(Location(name=name, kind="warehouse"))
    db_session.commit()
    flash(f"Warehouse {name} added.", "success")
    return redirect(url_for("crm_advertising.settings_page"))


@bp.route("/settings/locations/<int:location_id>/toggle", methods=["POST"])
@permission_required(CONFIGURE)
def location_toggle(location_id: int):
    place = db_session.scalars(select(Location).where(Location.id == location_id)).one_or_none()
    if place is None:
        return _page({"location": "No such location."}, 404)
    held = db_session.scalar(
        select(func.coalesce(func.sum(Stock.quantity), 0)).where(Stock.location_id == place.id)
    )
    if place.active and held:
        return _page({"location": f"{place.name} still holds {held} items: move them first."}, 400)
    place.active = not place.active
    db_session.commit()
    flash(f"{place.name} is {'open' if place.active else 'closed'}.", "success")
    return redirect(url_for("crm_advertising.settings_page"))


@bp.route("/import", methods=["GET", "POST"])
@permission_required(CONFIGURE)
def import_page():
    from crm_advertising.importing import COLUMNS, import_materials
    from crm_advertising.views.common import actor

    result = None
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            return render_template(
                "crm_advertising/import.html",
                columns=COLUMNS,
                result=None,
                error="Choose a CSV file.",
            ), 400
        result = import_materials(db_session, upload.read(), actor(), local_today())
        if result.errors:
            db_session.rollback()
            return render_template(
                "crm_advertising/import.html", columns=COLUMNS, result=result, error=None
            ), 400
        db_session.commit()
        flash(
            f"{result.created} materials created, {result.updated} updated, "
            f"{result.received} opening stocks received.",
            "success",
        )
        return redirect(url_for("crm_advertising.material_list"))
    return render_template("crm_advertising/import.html", columns=COLUMNS, result=None, error=None)
