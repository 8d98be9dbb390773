"""JSON API conventions every module follows, and the OpenAPI document of the installation.

- URLs under ``/api/v1/``; JSON in and out through marshmallow schemas.
- Lists: ``?page=1&per_page=25`` (at most ``API_MAX_PER_PAGE``), filters as ``?field=value`` on the
  fields a resource declares filterable, ``?sort=field`` or ``?sort=-field``; the answer is
  ``{"items": [...], "meta": {"page", "per_page", "total", "pages"}}``.
- Errors: ``{"errors": {"field": ["message"]}}``; errors not tied to a field under ``_schema``.
- Authentication: the session cookie of a logged-in browser, which must then send the CSRF token
  (``X-CSRFToken``) on POST/PUT/PATCH/DELETE; or ``Authorization: Bearer <token>`` with a personal
  API token (core/tokens.py), which needs no CSRF token and gets no session cookie.
- Every view documents itself with ``@api_doc``; ``/api/v1/openapi.json`` is built from those
  declarations and the schemas, for the modules installed in this database.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from marshmallow import Schema, ValidationError
from sqlalchemy import Select, func, inspect, select

from core.db import db_session
from core.inputs import INT32_MAX, date_problem, decimal_problem, whole_number
from core.permissions import AUTHENTICATED, permission_required
from core.state import current_state

bp = Blueprint("core_api", __name__, url_prefix="/api/v1")

API_DOC = "crm_api_doc"


def api_doc(
    summary: str,
    *,
    request_schema: type[Schema] | None = None,
    response_schema: type[Schema] | None = None,
    many: bool = False,
    query: Sequence[str] = (),
) -> Callable:
    """Describe a JSON view for the OpenAPI document."""

    def mark(view: Callable) -> Callable:
        setattr(
            view,
            API_DOC,
            {
                "summary": summary,
                "request": request_schema,
                "response": response_schema,
                "many": many,
                "query": tuple(query),
            },
        )
        return view

    return mark


class ApiError(Exception):
    def __init__(self, errors: dict[str, list[str]], status: int = 400) -> None:
        super().__init__(errors)
        self.errors, self.status = errors, status


@bp.app_errorhandler(ValidationError)
def validation_error(error: ValidationError):
    db_session.rollback()
    messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
    if not request.path.startswith("/api/"):
        # A form whose view did not catch it (the flush check of core/schemas.py): a page.
        text = "; ".join(f"{field}: {texts}" for field, texts in messages.items())
        return render_template("core/error.html", code=400, message=text), 400
    return jsonify(errors=messages), 400


@bp.app_errorhandler(ApiError)
def api_error(error: ApiError):
    db_session.rollback()
    return jsonify(errors=error.errors), error.status


def created(body: Any, location: str) -> Response:
    """``201 Created`` with the new resource and the URL to read it again."""
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = location
    return response


def json_body() -> dict[str, Any]:
    """The request body as a dict; a body that is not a JSON object is a 400."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise ApiError({"_schema": ["The request body must be a JSON object."]})
    return payload


def load_json(schema: Schema, partial: bool = False) -> dict[str, Any]:
    """Validate the request body with ``schema``; a body that is not a JSON object is a 400."""
    return schema.load(json_body(), partial=partial)


def query_int(name: str, default: int | None = None) -> int | None:
    """``?name=`` as a whole number that fits an INTEGER column (``default`` when absent or
    empty); else a 400 naming it."""
    raw = request.args.get(name, "")
    if raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()):
        raise ApiError({name: ["Must be a whole number."]})
    try:
        return whole_number(raw)
    except ValueError:
        raise ApiError({name: [f"Must be a whole number up to {INT32_MAX}."]}) from None


def query_date(name: str, default: date | None = None) -> date | None:
    """``?name=`` as a date, YYYY-MM-DD, within ``core.inputs``' range (``default`` when absent
    or empty); else a 400 naming it."""
    raw = request.args.get(name, "")
    if raw == "":
        return default
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        raise ApiError({name: ["Not a date (YYYY-MM-DD)."]}) from None
    problem = date_problem(value)
    if problem:
        raise ApiError({name: [problem]})
    return value


def _int_arg(name: str, default: int, minimum: int, maximum: int | None = None) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = whole_number(raw)
    except ValueError:
        raise ApiError({name: ["Must be a whole number."]}) from None
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"between {minimum} and {maximum}" if maximum else f"at least {minimum}"
        raise ApiError({name: [f"Must be {bounds}."]})
    return value


_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _filter_value(column: Any, field: str, raw: str) -> Any:
    """A query-string filter as the column's type: PostgreSQL refuses text against a number."""
    try:
        python_type = column.type.python_type
    except (AttributeError, NotImplementedError):
        return raw
    try:
        if python_type is bool:
            return _BOOLEANS[raw.lower()]
        if python_type is int:
            return whole_number(raw)
        if python_type is Decimal:
            value = Decimal(raw)
            if decimal_problem(value):
                raise ValueError(raw)
            return value
        if python_type is date:
            value = date.fromisoformat(raw)
            if date_problem(value):
                raise ValueError(raw)
            return value
    except (KeyError, ValueError, ArithmeticError):
        expected = {bool: "true or false", int: "a whole number", Decimal: "a number"}
        raise ApiError(
            {field: [f"Must be {expected.get(python_type, 'a date (YYYY-MM-DD)')}."]}
        ) from None
    return raw


def paginate(
    stmt: Select,
    schema: Schema,
    *,
    model: type | None = None,
    filterable: Sequence[str] = (),
    sortable: Sequence[str] = (),
    default_sort: str | None = None,
    count_with_rows: bool = False,
) -> dict[str, Any]:
    """Filter, sort and page ``stmt`` the shared way; two queries whatever the data size.

    ``count_with_rows``: the database reads every row ``stmt`` selects before it can hand out the
    first page anyway (its order is not an index it can stop early in: a search through a
    trigram index, sorted afterwards), so the total is counted in that same read
    (``count(*) OVER ()``, with the keys of the page's rows; then ``model``'s rows by those keys)
    instead of a second pass over the same rows. A page past the last has no row to carry the
    total: it is counted apart."""
    max_per_page = current_app.config["API_MAX_PER_PAGE"]
    page = _int_arg("page", 1, 1)
    per_page = _int_arg("per_page", 25, 1, max_per_page)
    if model is not None:
        for field in filterable:
            if field in request.args:
                column = getattr(model, field)
                stmt = stmt.where(column == _filter_value(column, field, request.args[field]))
        sort = request.args.get("sort") or default_sort
        if sort:
            name = sort.lstrip("-")
            if name not in sortable:
                raise ApiError({"sort": [f"Sort by one of: {', '.join(sortable) or 'nothing'}."]})
            column = getattr(model, name)
            stmt = stmt.order_by(column.desc() if sort.startswith("-") else column.asc())
    paged = stmt.limit(per_page).offset((page - 1) * per_page)
    count = select(func.count()).select_from(stmt.order_by(None).subquery())
    if count_with_rows and model is not None:
        # The keys and the count only: the rows read and sorted are narrow, then the page's
        # whole rows by key (at 1,000,000 clients whole rows under the count took 82 ms, not 43).
        # By key alone: ``stmt``'s conditions again would search a second time.
        key = inspect(model).primary_key[0]
        counted = db_session.execute(paged.with_only_columns(key, func.count().over())).all()
        keys = [row[0] for row in counted]
        chosen = db_session.scalars(select(model).where(key.in_(keys)))
        found = {inspect(row).identity[0]: row for row in chosen}
        rows = [found[k] for k in keys]
        total = counted[0][-1] if counted else 0
        if not counted and page > 1:  # past the last page: no row carries the total
            total = db_session.scalar(count) or 0
    else:
        total = db_session.scalar(count) or 0
        rows = db_session.scalars(paged).all()
    return {
        "items": schema.dump(rows, many=True),
        "meta": {
            "page": page,
            "per_page": per_page,
            "total": total,
            "pages": max(1, math.ceil(total / per_page)),
        },
    }


@bp.route("/openapi.json")
@permission_required(AUTHENTICATED)
def openapi():
    from core.openapi import build_openapi

    return jsonify(build_openapi())


@bp.route("/models")
@permission_required("core.models")
@api_doc("The registered models of the installed modules, with their fields")
def models():

    return jsonify(items=current_state().models.describe())
