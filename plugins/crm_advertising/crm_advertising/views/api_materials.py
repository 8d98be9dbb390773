"""JSON API of materials and stock: /api/v1/advertising/materials, /api/v1/advertising/stock."""

from __future__ import annotations

from flask import jsonify, url_for
from marshmallow import fields
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from core.api import ApiError, api_doc, created, json_body, load_json, paginate
from core.db import db_session
from core.locking import check_version
from core.permissions import permission_required
from core.schemas import Schema
from crm_advertising.blueprints import api
from crm_advertising.models import Location, Material, MaterialKind, Stock
from crm_advertising.permissions import CONFIGURE, READ
from crm_advertising.schemas import MaterialSchema, MaterialUpdateSchema
from crm_advertising.views.common import load_material
from crm_advertising.views.materials import stock_by_material


class StockSchema(Schema):
    material_id = fields.Integer()
    material = fields.Function(lambda s: s.material.name)
    location_id = fields.Integer()
    location = fields.Function(lambda s: s.location.name)
    quantity = fields.Integer()


def _dump(material: Material) -> dict:
    material.stock = stock_by_material([material.id]).get(material.id, 0)
    return MaterialSchema().dump(material)


def _check_kind(data: dict) -> None:
    if data.get("kind_id") is not None and db_session.get(MaterialKind, data["kind_id"]) is None:
        raise ApiError({"kind_id": ["No such kind."]})


def _flush() -> None:
    try:
        db_session.flush()
    except IntegrityError:
        db_session.rollback()
        raise ApiError({"code": ["Another material has this code."]}) from None


@api.route("/materials")
@permission_required(READ)
@api_doc(
    "List the advertising materials",
    response_schema=MaterialSchema,
    many=True,
    query=("active", "kind_id", "page", "per_page", "sort"),
)
def api_material_list():
    stmt = select(Material).options(joinedload(Material.kind))
    page = paginate(
        stmt,
        MaterialSchema(),
        model=Material,
        filterable=("active", "kind_id"),
        sortable=("id", "code", "name"),
        default_sort="name",
    )
    stock = stock_by_material([item["id"] for item in page["items"]])
    for item in page["items"]:
        item["stock"] = stock.get(item["id"], 0)
    return jsonify(page)


@api.route("/materials", methods=["POST"])
@permission_required(CONFIGURE)
@api_doc("Create a material", request_schema=MaterialSchema, response_schema=MaterialSchema)
def api_material_create():
    data = load_json(MaterialSchema())
    _check_kind(data)
    material = Material(**data)
    db_session.add(material)
    _flush()
    db_session.commit()
    return created(
        _dump(load_material(material.id)), url_for(".api_material_get", material_id=material.id)
    )


@api.route("/materials/<int:material_id>")
@permission_required(READ)
@api_doc("A material, with what you may see of its stock", response_schema=MaterialSchema)
def api_material_get(material_id: int):
    return jsonify(_dump(load_material(material_id)))


@api.route("/materials/<int:material_id>", methods=["PATCH"])
@permission_required(CONFIGURE)
@api_doc(
    "Change a material: the fields given, and the version read",
    request_schema=MaterialUpdateSchema,
    response_schema=MaterialSchema,
)
def api_material_update(material_id: int):
    material = load_material(material_id)
    check_version(material, json_body().get("version"))
    data = MaterialUpdateSchema().load(json_body(), partial=True)
    data.pop("version", None)
    _check_kind(data)
    for name, value in data.items():
        setattr(material, name, value)
    _flush()
    db_session.commit()
    return jsonify(_dump(load_material(material_id)))


@api.route("/stock")
@permission_required(READ)
@api_doc(
    "Stock per material and location (the locations you may see)",
    response_schema=StockSchema,
    many=True,
    query=("material_id", "location_id", "page", "per_page"),
)
def api_stock():
    stmt = (
        select(Stock)
        .join(Location, Location.id == Stock.location_id)
        .options(joinedload(Stock.material), joinedload(Stock.location))
        .order_by(Stock.material_id, Stock.location_id)
    )
    return jsonify(
        paginate(stmt, StockSchema(), model=Stock, filterable=("material_id", "location_id"))
    )
