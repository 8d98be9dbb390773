"""The materials: the list with what is in stock, a material's page, its form."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from core.attachments import attachments_of
from core.audit import history_for
from core.auth import has_permission
from core.db import db_session
from core.locking import check_version
from core.permissions import permission_required
from crm_advertising.blueprints import bp
from crm_advertising.models import Location, Material, MaterialKind, Movement, Stock
from crm_advertising.permissions import CONFIGURE, READ
from crm_advertising.schemas import MaterialSchema
from crm_advertising.views.common import (
    MOVEMENT_OPTIONS,
    form_errors,
    form_values,
    int_arg,
    kinds,
    load_material,
    paged,
)

FIELDS = ("code", "name", "kind_id", "unit", "unit_cost", "reorder_level", "notes")
CHECKS = ("returnable", "active")


def stock_by_material(ids: list[int]) -> dict[int, int]:
    """What the current user may see in stock per material (her car and the warehouses, for a
    representative: the locations' record rules apply through the join)."""
    if not ids:
        return {}
    return dict(
        db_session.execute(
            select(Stock.material_id, func.sum(Stock.quantity))
            .join(Location, Location.id == Stock.location_id)
            .where(Stock.material_id.in_(ids))
            .group_by(Stock.material_id)
        ).all()
    )


@bp.route("/")
@permission_required(READ)
def material_list():
    query = " ".join(request.args.get("q", "").split())
    kind_id = int_arg("kind")
    show = request.args.get("show", "active")
    stmt = select(Material).options(joinedload(Material.kind)).order_by(Material.name, Material.id)
    if query:
        pattern = query.lower()
        stmt = stmt.where(
            or_(
                func.lower(Material.name).contains(pattern, autoescape=True),
                func.lower(Material.code).contains(pattern, autoescape=True),
            )
        )
    if kind_id is not None:
        stmt = stmt.where(Material.kind_id == kind_id)
    if show == "active":
        stmt = stmt.where(Material.active)
    page = paged(stmt)
    stock = stock_by_material([m.id for m in page["rows"]])
    filters = {k: v for k, v in {"q": query, "kind": kind_id, "show": show}.items() if v}
    return render_template(
        "crm_advertising/material_list.html",
        **page,
        stock=stock,
        filters=filters,
        query=query,
        kinds=kinds(),
        can_configure=has_permission(CONFIGURE),
    )


@bp.route("/materials/<int:material_id>")
@permission_required(READ)
def material_detail(material_id: int):
    material = load_material(material_id)
    stock = db_session.execute(
        select(Location, Stock.quantity)
        .join(Stock, Stock.location_id == Location.id)
        .where(Stock.material_id == material.id)
        .order_by(Location.kind.desc(), Location.name)
    ).all()
    movements = db_session.scalars(
        select(Movement)
        .where(Movement.material_id == material.id)
        .options(*MOVEMENT_OPTIONS)
        .order_by(Movement.day.desc(), Movement.id.desc())
        .limit(20)
    ).all()
    return render_template(
        "crm_advertising/material_detail.html",
        material=material,
        stock=stock,
        total=sum(q for _, q in stock),
        movements=movements,
        files=attachments_of(db_session, material),
        can_configure=has_permission(CONFIGURE),
        history=history_for(db_session, Material.__tablename__, material.id),
    )


def _posted() -> dict[str, Any]:
    values: dict[str, Any] = form_values(FIELDS)
    for name in CHECKS:
        values[name] = request.form.get(name) == "y"
    return values


def _load(values: dict[str, Any]) -> dict[str, Any]:
    # An empty optional field takes its default (no kind, cost 0, reorder level 0, pcs).
    data = {k: v for k, v in values.items() if v != "" or k in ("code", "name")}
    data.setdefault("unit_cost", "0")
    loaded = MaterialSchema().load(data)
    if (
        loaded.get("kind_id") is not None
        and db_session.get(MaterialKind, loaded["kind_id"]) is None
    ):
        raise ValidationError({"kind_id": ["No such kind."]})
    return loaded


def _form(material: Material | None, values: dict, errors: dict, status: int = 200):
    return render_template(
        "crm_advertising/material_form.html",
        material=material,
        values=values,
        errors=errors,
        kinds=kinds(),
    ), status


def _save(material: Material, values: dict[str, Any]):
    try:
        for name, value in _load(values).items():
            setattr(material, name, value)
        db_session.add(material)
        db_session.flush()
    except ValidationError as error:
        db_session.rollback()
        return None, form_errors(error.messages_dict)
    except IntegrityError:
        db_session.rollback()
        return None, {"code": ["Another material has this code."]}
    db_session.commit()
    return material, {}


@bp.route("/materials/new", methods=["GET", "POST"])
@permission_required(CONFIGURE)
def material_new():
    if request.method == "GET":
        return _form(
            None, {"unit": "pcs", "unit_cost": "0.00", "reorder_level": "0", "active": True}, {}
        )
    values = _posted()
    material, errors = _save(Material(), values)
    if errors:
        return _form(None, values, errors, 400)
    flash(f"Material {material.name} created.", "success")
    return redirect(url_for("crm_advertising.material_detail", material_id=material.id))


@bp.route("/materials/<int:material_id>/edit", methods=["GET", "POST"])
@permission_required(CONFIGURE)
def material_edit(material_id: int):
    material = load_material(material_id)
    if request.method == "GET":
        values = {
            name: "" if getattr(material, name) is None else str(getattr(material, name))
            for name in FIELDS
        }
        values.update({n: getattr(material, n) for n in CHECKS}, version=str(material.version))
        return _form(material, values, {})
    check_version(material, request.form.get("version"))
    values = {**_posted(), "version": request.form.get("version", "")}
    saved, errors = _save(material, {k: v for k, v in values.items() if k != "version"})
    if errors:
        return _form(load_material(material_id), values, errors, 400)
    flash(f"Material {saved.name} saved.", "success")
    return redirect(url_for("crm_advertising.material_detail", material_id=saved.id))
