"""What comes in: the bounds every whole number, amount, date and text keeps, and the readers that
apply them before a module sees the value.

A value outside these bounds is refused with a 4xx naming the field, never carried to the
database, where it would be a 500 (an integer past 64 bits, a NUL byte on PostgreSQL, a date whose
arithmetic overflows) or be stored silently (a NUL byte on SQLite). They are applied app-wide, so a
module gets them without writing anything:

- URL paths: the ``int`` converter matches at most 10 digits and at most 2**31 - 1, the largest id
  an INTEGER key holds (else 404; PostgreSQL would answer "integer out of range" with a 500);
  ``<int(max=...):id>`` for a BigInteger key;
- ``request.args`` and ``request.form``: ``.get(name, type=int)`` gives the default for a whole
  number that does not fit an INTEGER column, as it does for ``abc``; a NUL byte in any value is a
  400 naming the parameter;
- JSON bodies (``request.get_json``): nested at most ``MAX_JSON_DEPTH`` deep, no NaN or infinity,
  no integer past 64 bits, no NUL byte or lone surrogate in any key or text: a 400 naming where;
- marshmallow schemas built on ``core.schemas.Schema`` (every schema of every module);
- the database session: a ``before_flush`` check of every column value against its type
  (``core.schemas.install_value_guard``), the last net for values that reach a model another way.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from flask import Request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter, Map

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
# Amounts, prices and quantities: ten digits before the point fit every Numeric column of the
# modules (Numeric(14, 4) is the narrowest money column) with room for sums.
DECIMAL_LIMIT = Decimal(10) ** 10
# A CRM's dates are this century's give or take: far from date.min and date.max, so that adding a
# period or a time zone offset to any accepted date cannot overflow.
FIRST_DATE, LAST_DATE = date(1900, 1, 1), date(2999, 12, 31)
MAX_TEXT = 10_000
MAX_JSON_DEPTH = 32


class InputRefused(Exception):
    """A value refused before any module saw it: ``errors`` is ``{field: [message]}``."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


# --- single values ----------------------------------------------------------------------------


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text, or None."""
    if "\x00" in value:
        return "Must not contain NUL characters."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "Must be valid Unicode text (it holds a lone surrogate)."
    return None


def date_problem(value: date) -> str | None:
    day = value.date() if isinstance(value, datetime) else value
    if not FIRST_DATE <= day <= LAST_DATE:
        return f"Must be between {FIRST_DATE.isoformat()} and {LAST_DATE.isoformat()}."
    if isinstance(value, datetime) and value.tzinfo is not None:
        try:
            value.astimezone(UTC)
        except (OverflowError, ValueError):
            return "The time zone offset puts this moment out of range."
    return None


def decimal_problem(value: Decimal | float) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return "Must be a finite number."
    if isinstance(value, Decimal) and not value.is_finite():
        return "Must be a finite number."
    if abs(value) >= DECIMAL_LIMIT:
        return f"Must be less than {DECIMAL_LIMIT:,.0f} in absolute value."
    return None


def int_problem(value: int, low: int = INT64_MIN, high: int = INT64_MAX) -> str | None:
    if not low <= value <= high:
        return f"Must be a whole number between {low} and {high}."
    return None


def whole_number(raw: Any) -> int:
    """``raw`` as a whole number that fits an INTEGER column; ValueError otherwise. ``int()`` of
    a query string would accept ``" 1_0 "`` and 4,000 digits."""
    text = str(raw).strip()
    digits = text[1:] if text[:1] in "+-" else text
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 10:
        raise ValueError(f"not a whole number: {text[:20]!r}")
    value = int(text)
    if not INT32_MIN <= value <= INT32_MAX:
        raise ValueError(f"out of range: {text}")
    return value


# --- URL paths ---------------------------------------------------------------------------------


class BoundedIntConverter(IntegerConverter):
    """``<int:...>`` for every route: an id past an INTEGER key is no record (404), never an
    overflow in the database; ``int()`` never sees 4,000 digits."""

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = INT32_MAX,
        signed: bool = False,
    ) -> None:
        digits = len(str(max if max is not None else INT64_MAX))
        self.regex = rf"\d{{1,{digits}}}"
        super().__init__(map, fixed_digits, min, max, signed)


# --- query strings, forms, JSON bodies ----------------------------------------------------------


class InputMultiDict(ImmutableMultiDict):
    """``request.args`` / ``request.form``: ``type=int`` reads a whole number that fits."""

    def get(self, key, default=None, type: Callable | None = None):  # noqa: A002 - werkzeug's name
        return super().get(key, default, whole_number if type is int else type)

    def getlist(self, key, type: Callable | None = None):  # noqa: A002
        return super().getlist(key, whole_number if type is int else type)


def _json_problem(document: Any) -> tuple[str, str] | None:
    """(where, why) for the first value of a parsed JSON document that cannot be accepted."""
    stack: list[tuple[Any, str, int]] = [(document, "", 0)]
    while stack:
        value, where, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return where or "_schema", f"Nested more than {MAX_JSON_DEPTH} levels deep."
        if isinstance(value, dict):
            for key, item in value.items():
                here = f"{where}.{key}" if where else str(key)
                problem = text_problem(key)
                if problem:
                    return where or "_schema", f"A key is refused: {problem}"
                stack.append((item, here, depth + 1))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                stack.append((item, f"{where}.{index}" if where else str(index), depth + 1))
        elif isinstance(value, str):
            problem = text_problem(value)
            if problem:
                return where or "_schema", problem
        elif isinstance(value, float) and not math.isfinite(value):
            return where or "_schema", "Must be a finite number."
        elif isinstance(value, int) and not isinstance(value, bool):
            problem = int_problem(value)
            if problem:
                return where or "_schema", problem
    return None


class CRMRequest(Request):
    parameter_storage_class = InputMultiDict

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        try:
            document = super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError:
            # Python's parser recurses once a level: 5,000 levels end in RecursionError.
            raise InputRefused(
                {"_schema": [f"Nested more than {MAX_JSON_DEPTH} levels deep."]}
            ) from None
        problem = _json_problem(document) if document is not None else None
        if problem:
            where, why = problem
            raise InputRefused({where: [why]})
        return document


def refuse_nul_parameters(request: Request) -> None:
    """A NUL byte in a query string or form value: a 400 naming it, before any view reads it
    (PostgreSQL refuses NUL in text with a 500; SQLite would store it)."""
    sources = [request.args]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        sources.append(request.form)
    for source in sources:
        for key, value in source.items(multi=True):
            problem = text_problem(key) or text_problem(value)
            if problem:
                raise InputRefused({key if not text_problem(key) else "_schema": [problem]})


UPLOAD_LIMIT = "crm_upload_limit"


def large_uploads(setting: str) -> Callable[[Any], Any]:
    """Mark a view that takes files larger than the site's request limit (a CSV import of
    100,000 clients is some 70 MB): its requests may be as large as the setting ``setting``
    (bytes) says; every other view keeps ``MAX_CONTENT_LENGTH``."""

    def mark(view: Any) -> Any:
        setattr(view, UPLOAD_LIMIT, setting)
        return view

    return mark


def request_limit(config: dict[str, Any], view: Any) -> int | None:
    """The largest body the request's view accepts (see ``large_uploads``)."""
    setting = getattr(view, UPLOAD_LIMIT, None)
    return config[setting] if setting else config.get("MAX_CONTENT_LENGTH")
