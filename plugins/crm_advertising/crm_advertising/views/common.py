"""Helpers shared by the module's pages: who is acting, paging, form values and errors."""

from __future__ import annotations

import math
from typing import Any

from flask import abort, request
from flask_login import current_user
from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload

from core.auth import has_permission
from core.db import db_session
from core.paging import page_links
from crm_advertising.models import Location, Material, MaterialKind, Movement
from crm_advertising.permissions import CONFIGURE, HAND_OUT, MANAGE_STOCK, READ
from crm_advertising.service import Actor

PER_PAGE = 50
MOVEMENT_OPTIONS = (
    joinedload(Movement.material),
    joinedload(Movement.from_location),
    joinedload(Movement.to_location),
    joinedload(Movement.client),
    joinedload(Movement.person),
    joinedload(Movement.created_by),
)


def actor() -> Actor:
    codes = (READ, HAND_OUT, MANAGE_STOCK, CONFIGURE)
    return Actor(current_user, frozenset(c for c in codes if has_permission(c)))


def int_arg(name: str) -> int | None:
    raw = request.args.get(name, "")
    if raw.isascii() and raw.isdigit() and len(raw) <= 18:
        return int(raw)
    return None


def paged(stmt: Select) -> dict[str, Any]:
    """One page of ``stmt`` with the paging figures a list template shows."""
    counted = stmt.with_only_columns(func.count(), maintain_column_froms=True)
    total = db_session.scalar(counted.order_by(None)) or 0
    pages = max(1, math.ceil(total / PER_PAGE))
    page = min(max(int_arg("page") or 1, 1), pages)
    rows = db_session.scalars(stmt.limit(PER_PAGE).offset((page - 1) * PER_PAGE)).unique().all()
    return {
        "rows": rows,
        "total": total,
        "page": page,
        "pages": pages,
        "page_links": page_links(page, pages),
    }


def form_values(names: tuple[str, ...]) -> dict[str, str]:
    return {name: request.form.get(name, "").strip() for name in names}


def _messages(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [m for v in value.values() for m in _messages(v)]
    if isinstance(value, list | tuple):
        return [m for v in value for m in _messages(v)]
    return [str(value)]


def form_errors(messages: dict[str, Any]) -> dict[str, list[str]]:
    """Schema messages by field; nested ones (``lines.0.quantity``) flattened with dots."""
    flat: dict[str, list[str]] = {}
    for name, value in messages.items():
        if name == "lines" and isinstance(value, dict):
            for index, inner in value.items():
                if isinstance(inner, dict):
                    for field, text in inner.items():
                        flat[f"lines.{index}.{field}"] = _messages(text)
                else:
                    flat["lines"] = _messages(inner)
        else:
            flat[name] = _messages(value)
    return flat


def load_material(material_id: int) -> Material:
    material = db_session.scalars(
        select(Material).where(Material.id == material_id).options(joinedload(Material.kind))
    ).one_or_none()
    return material or abort(404)


def kinds() -> list[Any]:
    return db_session.execute(
        select(MaterialKind.id, MaterialKind.name).order_by(MaterialKind.order, MaterialKind.name)
    ).all()


def locations(active_only: bool = True) -> list[Location]:
    """The locations the current user may see (record rules), warehouses first."""
    stmt = select(Location).order_by(Location.kind.desc(), Location.name)
    if active_only:
        stmt = stmt.where(Location.active)
    return list(db_session.scalars(stmt))


def material_choices(active_only: bool = True) -> list[Any]:
    stmt = select(Material.id, Material.name, Material.code, Material.unit).order_by(Material.name)
    if active_only:
        stmt = stmt.where(Material.active)
    return db_session.execute(stmt).all()
