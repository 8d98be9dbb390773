"""The base of every marshmallow schema, and the check of every value a session writes.

``Schema`` gives each field the bounds of ``core.inputs`` by its type when the schema is built,
so that a module's schema needs no validator of its own to refuse, naming the field, what the
database would turn into a 500 or store silently:

- ``Integer``: a whole number an INTEGER column holds, up to 2**31 - 1 (``1e19``, ``2**64``; an
  id past it is refused by PostgreSQL with a 500); ``metadata={"bits": 64}`` for a BigInteger;
- ``Decimal``/``Float``: finite, less than ``DECIMAL_LIMIT`` in absolute value (``1e999``, NaN);
- ``Date``/``DateTime``: between ``FIRST_DATE`` and ``LAST_DATE``, an offset that converts to UTC;
- ``String`` (and ``Email``, ``Url``...): no NUL byte, no lone surrogate, at most ``MAX_TEXT``
  characters unless the field declares a ``Length`` of its own.

Validators of the module's own run as well; these only add a floor. ``install_value_guard``
checks the same bounds against each column's own type (``String(200)``, ``Numeric(5, 2)``,
``Integer``) in ``before_flush``, for values that reach a model without a schema.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import marshmallow
from marshmallow import ValidationError, fields
from marshmallow import validate as v
from sqlalchemy import event, inspect
from sqlalchemy import types as sqltypes
from sqlalchemy.orm import Session, sessionmaker

from core.inputs import (
    INT32_MAX,
    INT32_MIN,
    INT64_MAX,
    INT64_MIN,
    MAX_TEXT,
    date_problem,
    decimal_problem,
    int_problem,
    text_problem,
)


def _raise(problem: str | None) -> None:
    if problem:
        raise ValidationError(problem)


def _check_text(value: Any) -> None:
    # ASCII without a NUL is fine and says so at once (``isascii`` reads a flag of the string):
    # every text field of every load comes here, 300,000 times in an import of 10,000 clients.
    if isinstance(value, str) and ("\x00" in value or not value.isascii()):
        _raise(text_problem(value))


def _check_int(value: Any) -> None:
    if isinstance(value, int):
        _raise(int_problem(value, INT32_MIN, INT32_MAX))


def _check_int64(value: Any) -> None:
    if isinstance(value, int):
        _raise(int_problem(value))


def _check_number(value: Any) -> None:
    if isinstance(value, Decimal | float):
        _raise(decimal_problem(value))


def _check_date(value: Any) -> None:
    if isinstance(value, date):
        _raise(date_problem(value))


def harden(field: fields.Field) -> None:
    """Add the bounds of its type to ``field`` (and to the fields inside a List, Tuple, Dict)."""
    if getattr(field, "_crm_hardened", False):
        return
    field._crm_hardened = True  # type: ignore[attr-defined]
    validators = list(field.validators)
    if isinstance(field, fields.Integer):
        validators.append(_check_int64 if field.metadata.get("bits") == 64 else _check_int)
    elif isinstance(field, fields.Decimal | fields.Float):
        validators.append(_check_number)
    elif isinstance(field, fields.Date | fields.DateTime):
        validators.append(_check_date)
    elif isinstance(field, fields.String):
        validators.append(_check_text)
        if not any(isinstance(check, v.Length) and check.max for check in field.validators):
            validators.append(v.Length(max=MAX_TEXT))
    field.validators = validators
    for inner in (
        getattr(field, "inner", None),
        getattr(field, "key_field", None),
        getattr(field, "value_field", None),
        *getattr(field, "tuple_fields", ()),
    ):
        if isinstance(inner, fields.Field):
            harden(inner)


class Schema(marshmallow.Schema):
    """The schema every module's schemas derive from (directly or through their own base)."""

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        super().on_bind_field(field_name, field_obj)
        harden(field_obj)


# --- the last net: every value a session flushes -----------------------------------------------


def column_problem(column_type: Any, value: Any) -> str | None:
    """Why ``value`` does not fit a column of ``column_type``, or None."""
    if value is None:
        return None
    if isinstance(value, str):
        problem = text_problem(value)
        if problem:
            return problem
        length = getattr(column_type, "length", None)
        if isinstance(column_type, sqltypes.String) and length and len(value) > length:
            return f"At most {length} characters."
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        if isinstance(column_type, sqltypes.BigInteger):
            return int_problem(value, INT64_MIN, INT64_MAX)
        if isinstance(column_type, sqltypes.Integer):
            return int_problem(value, INT32_MIN, INT32_MAX)
        if isinstance(column_type, sqltypes.Numeric):
            return _numeric_problem(column_type, Decimal(value))
        return None
    if isinstance(value, Decimal | float):
        problem = decimal_problem(value) if not isinstance(value, Decimal) else None
        if problem:
            return problem
        if isinstance(column_type, sqltypes.Numeric) and not isinstance(
            column_type, sqltypes.Float
        ):
            return _numeric_problem(column_type, Decimal(value))
        return None
    if isinstance(value, date | datetime):
        return date_problem(value)
    return None


def _numeric_problem(column_type: sqltypes.Numeric, value: Decimal) -> str | None:
    if not value.is_finite():
        return "Must be a finite number."
    precision, scale = column_type.precision, column_type.scale or 0
    if precision is None:
        return None
    limit = Decimal(10) ** (precision - scale)
    if abs(value) >= limit:
        return f"Must be less than {limit:,.0f} in absolute value."
    return None


def _check_flush(session: Session, _context: Any, _instances: Any) -> None:
    errors: dict[str, list[str]] = {}
    for instance in (*session.new, *session.dirty):
        state = inspect(instance)
        for attr in state.mapper.column_attrs:
            if len(attr.columns) != 1:
                continue
            history = state.attrs[attr.key].history
            if not history.added:
                continue
            problem = column_problem(attr.columns[0].type, history.added[0])
            if problem:
                errors.setdefault(attr.key, []).append(problem)
    if errors:
        raise ValidationError(errors)


def install_value_guard(factory: sessionmaker[Session]) -> None:
    """Refuse, naming the field, a value its column cannot hold, before it is sent."""
    event.listen(factory, "before_flush", _check_flush)
