"""The catalogue: products (list, create, edit) and the product-group tree (list, create, edit).

Forms validate through the same marshmallow schemas as the API; a stale edit answers 409
(optimistic locking on products); a group cannot be moved under its own subgroup.
"""

from __future__ import annotations

import math
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from core.db import db_session
from core.locking import check_version
from core.permissions import permission_required
from crm_sales.blueprints import bp
from crm_sales.models import Product, ProductGroup
from crm_sales.permissions import READ, WRITE
from crm_sales.schemas import ProductGroupSchema, ProductSchema

PER_PAGE = 50
PRODUCT_FIELDS = ("code", "name", "unit", "list_price", "currency", "group_id", "version")


def group_tree() -> list[ProductGroup]:
    """Every group, in tree order: one query."""
    groups = db_session.scalars(select(ProductGroup)).all()
    names = {g.id: g.name for g in groups}
    return sorted(groups, key=lambda g: [names.get(i, "").lower() for i in g.ancestor_ids])


def indented(group: ProductGroup) -> str:
    return "\u2003" * group.depth + group.name


def group_choices(groups: list[ProductGroup] | None = None) -> list[tuple[int, str]]:
    """``(id, name indented by depth)`` of the groups given (every group by default)."""
    return [(g.id, indented(g)) for g in (group_tree() if groups is None else groups)]


@bp.route("/products")
@permission_required(READ)
def product_list():
    query = request.args.get("q", "").strip()
    group_id = request.args.get("group", type=int)
    show_inactive = request.args.get("inactive") == "1"
    page = max(request.args.get("page", 1, type=int), 1)
    stmt = select(Product)
    if query:
        like = f"%{query.lower()}%"
        stmt = stmt.where(
            or_(func.lower(Product.name).like(like), func.lower(Product.code).like(like))
        )
    if group_id:
        group = db_session.get(ProductGroup, group_id)
        if group is not None:
            stmt = stmt.where(
                Product.group_id.in_(
                    select(ProductGroup.id).where(ProductGroup.path.startswith(group.path))
                )
            )
    if not show_inactive:
        stmt = stmt.where(Product.active.is_(True))
    total = db_session.scalar(select(func.count()).select_from(stmt.subquery()))
    products = db_session.scalars(
        stmt.options(joinedload(Product.group))
        .order_by(Product.code)
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    return render_template(
        "crm_sales/product_list.html",
        products=products,
        total=total,
        page=page,
        pages=max(1, math.ceil(total / PER_PAGE)),
        query=query,
        group_id=group_id,
        show_inactive=show_inactive,
        groups=group_choices(),
    )


def _product_form(product: Product | None, values: dict[str, Any], errors: dict, status=200):
    return render_template(
        "crm_sales/product_form.html",
        product=product,
        values=values,
        errors=errors,
        groups=group_choices(),
    ), status


def _posted_product() -> dict[str, Any]:
    raw: dict[str, Any] = {name: request.form.get(name, "") for name in PRODUCT_FIELDS}
    raw["active"] = request.form.get("active") in ("y", "on", "true")
    return raw


def _load_product(raw: dict[str, Any], product: Product | None) -> tuple[dict | None, dict]:
    try:
        data = ProductSchema().load(raw)
    except ValidationError as error:
        return None, error.messages_dict
    taken = select(Product.id).where(Product.code == data["code"])
    if product is not None:
        taken = taken.where(Product.id != product.id)
    if db_session.scalar(taken) is not None:
        return None, {"code": [f"Another product has the code {data['code']}."]}
    if data["group_id"] is not None and db_session.get(ProductGroup, data["group_id"]) is None:
        return None, {"group_id": ["No such product group."]}
    return data, {}


@bp.route("/products/new", methods=["GET", "POST"])
@permission_required(WRITE)
def product_new():
    if request.method == "GET":
        return _product_form(None, {"unit": "pcs", "active": True}, {})
    raw = _posted_product()
    data, errors = _load_product(raw, None)
    if errors:
        return _product_form(None, raw, errors, 400)
    data.pop("version", None)
    product = Product(**data)
    db_session.add(product)
    db_session.commit()
    flash(f"Product {product.code} created.", "success")
    return redirect(url_for("crm_sales.product_list", q=product.code))


@bp.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
@permission_required(WRITE)
def product_edit(product_id: int):
    product = db_session.get(Product, product_id) or abort(404)
    if request.method == "GET":
        values = {name: getattr(product, name) for name in PRODUCT_FIELDS}
        values["active"] = product.active
        return _product_form(product, values, {})
    raw = _posted_product()
    data, errors = _load_product(raw, product)
    if errors:
        return _product_form(product, raw, errors, 400)
    check_version(product, data.pop("version"))
    for name, value in data.items():
        setattr(product, name, value)
    db_session.commit()
    flash(f"Product {product.code} saved.", "success")
    return redirect(url_for("crm_sales.product_list", q=product.code))


@bp.route("/groups")
@permission_required(READ)
def group_list():
    counts = dict(
        db_session.execute(select(Product.group_id, func.count()).group_by(Product.group_id)).all()
    )
    rows = [(g, indented(g), counts.get(g.id, 0)) for g in group_tree()]
    return render_template("crm_sales/group_list.html", rows=rows)


def _group_form(group: ProductGroup | None, values: dict[str, Any], errors: dict, status=200):
    groups = group_tree()
    if group is not None:  # not under itself or its subgroups
        groups = [g for g in groups if not g.path.startswith(group.path)]
    return render_template(
        "crm_sales/group_form.html",
        group=group,
        values=values,
        errors=errors,
        groups=group_choices(groups),
    ), status


def _load_group(group: ProductGroup | None) -> tuple[dict[str, Any], dict | None, dict]:
    raw = {name: request.form.get(name, "") for name in ("code", "name", "parent_id")}
    try:
        data = ProductGroupSchema().load(raw)
    except ValidationError as error:
        return raw, None, error.messages_dict
    taken = select(ProductGroup.id).where(ProductGroup.code == data["code"])
    if group is not None:
        taken = taken.where(ProductGroup.id != group.id)
    if db_session.scalar(taken) is not None:
        return raw, None, {"code": [f"Another group has the code {data['code']}."]}
    if data["parent_id"] is not None:
        parent = db_session.get(ProductGroup, data["parent_id"])
        if parent is None:
            return raw, None, {"parent_id": ["No such product group."]}
        if group is not None and parent.path.startswith(group.path):
            return (
                raw,
                None,
                {"parent_id": ["A group cannot be moved under itself or its subgroups."]},
            )
    return raw, data, {}


@bp.route("/groups/new", methods=["GET", "POST"])
@permission_required(WRITE)
def group_new():
    if request.method == "GET":
        return _group_form(None, {"parent_id": request.args.get("parent", "")}, {})
    raw, data, errors = _load_group(None)
    if errors:
        return _group_form(None, raw, errors, 400)
    group = ProductGroup(**data)
    db_session.add(group)
    db_session.commit()
    flash(f"Product group {group.name} created.", "success")
    return redirect(url_for("crm_sales.group_list"))


@bp.route("/groups/<int:group_id>/edit", methods=["GET", "POST"])
@permission_required(WRITE)
def group_edit(group_id: int):
    group = db_session.get(ProductGroup, group_id) or abort(404)
    if request.method == "GET":
        values = {"code": group.code, "name": group.name, "parent_id": group.parent_id or ""}
        return _group_form(group, values, {})
    check_version(group)
    raw, data, errors = _load_group(group)
    if errors:
        return _group_form(group, raw, errors, 400)
    for name, value in data.items():
        setattr(group, name, value)
    db_session.commit()
    flash(f"Product group {group.name} saved.", "success")
    return redirect(url_for("crm_sales.group_list"))
