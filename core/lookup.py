"""Pickers: ``GET /api/v1/lookup/<model>?q=`` finds records by a few letters of their name, code
or VAT number, for the searchable ``select[data-picker]`` fields of every form.

Any registered model whose ``ModelDef`` declares ``lookup=("name", "code", ...)`` can be looked up;
the first column is the label, the others are shown beside it. The query runs through the
request's session, so record rules apply: a representative's client picker offers only her
clients. The permission is the model's module read permission (``ModelDef.read_permission``).
The core adds one model of its own, ``core_user`` (assignee pickers), filtered by
``?permission=<code>`` to the users who hold that permission.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, jsonify, request
from marshmallow import fields
from sqlalchemy import ColumnElement, Select, String, and_, cast, func, or_, select

from core.api import ApiError, _filter_value, api_doc
from core.auth import has_permission
from core.db import db_session
from core.inputs import INT32_MAX
from core.models import User, group_permission, user_group
from core.permissions import AUTHENTICATED, permission_required
from core.schemas import Schema
from core.state import current_state

bp = Blueprint("core_lookup", __name__, url_prefix="/api/v1/lookup")

DEFAULT_LIMIT = 20
MAX_LIMIT = 50
USERS = "core_user"
_RESERVED = frozenset({"q", "page", "limit"})


@dataclass(frozen=True)
class Lookup:
    """What a picker may search: the model, its searched columns (label first), its filters."""

    model: type
    columns: tuple[str, ...]
    filters: tuple[str, ...]
    permission: str
    detail: tuple[str, ...] = ()  # the columns shown beside the label

    def label_of(self, row: Any) -> str:
        return str(getattr(row, self.columns[0]) or "")

    def detail_of(self, row: Any) -> str:
        values = (getattr(row, c) for c in self.detail)
        return " · ".join(str(v) for v in values if v not in (None, ""))


_USER_LOOKUP = Lookup(User, ("name", "login"), ("permission",), AUTHENTICATED, ("login",))


def find(name: str) -> Lookup | None:
    """The lookup of the model registered as ``name``, if it has one and its module is installed."""
    if name == USERS:
        return _USER_LOOKUP

    models = current_state().models
    if name not in models:
        return None
    info = models.get(name)
    if not info.lookup:
        return None
    return Lookup(
        info.model, info.lookup, info.lookup_filters, info.read_permission, info.lookup_detail
    )


def _matches(lookup: Lookup, text: str) -> ColumnElement[bool]:
    """Every word typed appears in one of the searched columns (any case)."""
    conditions = []
    for word in text.split()[:5]:
        pattern = "%" + word.lower().replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
        pattern += "%"
        conditions.append(
            or_(
                *(
                    func.lower(cast(getattr(lookup.model, c), String)).like(pattern, escape="\\")
                    for c in lookup.columns
                )
            )
        )
    return and_(*conditions)


def _filtered(lookup: Lookup, stmt: Select, args: dict[str, str]) -> Select:
    unknown = sorted(set(args) - _RESERVED - set(lookup.filters))
    if unknown:
        allowed = ", ".join(lookup.filters) or "none"
        raise ApiError({unknown[0]: [f"Not a filter of this picker; filters: {allowed}."]})
    for name in lookup.filters:
        raw = args.get(name, "")
        if raw == "":
            continue
        if lookup is _USER_LOOKUP and name == "permission":
            holders = (
                select(user_group.c.user_id)
                .join(group_permission, group_permission.c.group_id == user_group.c.group_id)
                .where(group_permission.c.permission_code == raw)
            )
            stmt = stmt.where(User.id.in_(holders))
            continue
        column = getattr(lookup.model, name)
        stmt = stmt.where(column == _filter_value(column, name, raw))
    return stmt


def search(lookup: Lookup, text: str, args: dict[str, str], limit: int, page: int = 1):
    """``(rows, more)``: the records matching ``text`` and the filters, by label."""
    model = lookup.model
    stmt = select(model)
    if lookup is _USER_LOOKUP:
        stmt = stmt.where(User.active.is_(True))
    if text.strip():
        stmt = stmt.where(_matches(lookup, text))
    stmt = _filtered(lookup, stmt, args)
    label = getattr(model, lookup.columns[0])
    stmt = stmt.order_by(label, *model.__mapper__.primary_key)
    rows = db_session.scalars(stmt.limit(limit + 1).offset((page - 1) * limit)).all()
    return rows[:limit], len(rows) > limit


def labels(name: str, ids: Iterable[Any]) -> dict[str, str]:
    """``{id as text: label}`` of the given records that this user may see (one query): what a
    picker shows as its current value. Unknown, unseen or unsearchable: left out."""
    # An id no key column can hold is no record (and SQLite would refuse the number).
    digits = [str(i).strip() for i in ids]
    wanted = [int(i) for i in digits if i.isascii() and i.isdigit() and int(i) <= INT32_MAX]
    lookup = find(name)
    if not wanted or lookup is None or not has_permission(lookup.permission):
        return {}
    key = lookup.model.__mapper__.primary_key[0]
    rows = db_session.scalars(select(lookup.model).where(key.in_(wanted)))
    return {str(getattr(r, key.key)): _display(lookup, r) for r in rows}


def _display(lookup: Lookup, row: Any) -> str:
    detail = lookup.detail_of(row)
    return f"{lookup.label_of(row)} ({detail})" if detail else lookup.label_of(row)


def _int(name: str, default: int, maximum: int) -> int:
    raw = request.args.get(name, "")
    if raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:
        raise ApiError({name: [f"Must be a whole number from 1 to {maximum}."]})
    return int(raw)


class LookupItemSchema(Schema):
    id = fields.Integer()
    label = fields.String()
    detail = fields.String(metadata={"description": "the other searched columns (code, VAT...)"})


class LookupSchema(Schema):
    items = fields.List(fields.Nested(LookupItemSchema))
    more = fields.Boolean(metadata={"description": "another page follows"})


@bp.route("/<model_name>")
@permission_required(AUTHENTICATED)
@api_doc(
    "Find records of a model for a picker, by a few letters of its searched columns",
    response_schema=LookupSchema,
    query=("q", "page", "limit"),
)
def lookup(model_name: str):
    found = find(model_name)
    if found is None:
        abort(404, f"{model_name} has no picker.")
    if not has_permission(found.permission):
        abort(403)
    limit = _int("limit", DEFAULT_LIMIT, MAX_LIMIT)
    page = _int("page", 1, 10_000)
    text = request.args.get("q", "")[:100]
    rows, more = search(found, text, request.args.to_dict(), limit, page)
    key = found.model.__mapper__.primary_key[0].key
    items = [
        {"id": getattr(r, key), "label": found.label_of(r), "detail": found.detail_of(r)}
        for r in rows
    ]
    return jsonify(items=items, more=more)
