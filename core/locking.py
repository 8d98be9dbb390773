"""Optimistic locking: nothing a user saves silently overwrites a change made since they loaded it.

An editable model inherits ``Versioned`` (a ``version`` column declared as the mapper's
``version_id_col``). Its forms carry the version in a hidden field (the ``version_field`` macro of
``core/_locking.html``) and its API takes it in the JSON body (``"version": 3``) or an
``If-Match: "3"`` header. The view calls ``check_version(record)`` before changing anything: a
version that is not the current one (or none at all) raises ``Conflict``. Between that check and
the commit another worker may still save; SQLAlchemy's UPDATE then matches no row (it is filtered
on the version read) and raises ``StaleDataError``. Both answer 409 through the handlers
``register_error_handlers`` installs: an HTML page with the record's current values next to the
user's, or JSON ``{"errors": {"version": [...]}, "current": {...}}``. The transaction is
rolled back either way.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g, has_request_context, jsonify, render_template, request
from sqlalchemy import inspect, update
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm import object_session
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import Conflict as HTTPConflict

from core.audit import to_text
from core.db import Versioned, db_session
from core.state import current_state, wants_json

__all__ = ["CHANGED", "Conflict", "Versioned", "check_version", "submitted_version"]

CHANGED = (
    "This record was changed by someone else since you opened it. Nothing was saved: "
    "look at its current values, then redo your change."
)
MISSING = (
    "This change does not say which version of the record it was made on (a version field, or "
    "an If-Match header): nothing was saved. Read the record again, then redo your change."
)
DELETED = "This record was deleted by someone else since you opened it. Nothing was saved."


class Conflict(HTTPConflict):
    """The submitted version of ``record`` is not the current one (HTTP 409)."""

    def __init__(self, record: Any = None, message: str = CHANGED) -> None:
        super().__init__(description=message)
        self.record = record


#: ``check_version(record)`` without a second argument reads the version from the request.
FROM_REQUEST: Any = object()


def submitted_version() -> Any:
    """The version the client read: a JSON body's ``version``, a form's ``version`` field, or the
    ``If-Match`` header (``"3"``, ``W/"3"`` or ``3``); None when the request carries none."""
    if request.is_json:
        body = request.get_json(silent=True)
        if isinstance(body, dict) and "version" in body:
            return body["version"]
    elif "version" in request.form:
        return request.form["version"]
    tag = request.headers.get("If-Match", "").strip()
    if tag.startswith("W/"):
        tag = tag[2:]
    return tag.strip('"') or None


def version_key(record: Any) -> str:
    mapper = inspect(record).mapper
    if mapper.version_id_col is None:
        raise TypeError(f"{type(record).__name__} has no version_id_col: it cannot be locked")
    return mapper.get_property_by_column(mapper.version_id_col).key


def check_version(record: Any, submitted: Any = FROM_REQUEST) -> None:
    """Raise ``Conflict`` unless ``submitted`` (a form's text or a JSON number; by default what
    ``submitted_version()`` finds in the request) is the version of ``record`` as loaded now. A
    missing or unreadable version counts as stale: it cannot prove the user saw the current
    values."""
    if submitted is FROM_REQUEST:
        submitted = submitted_version()
    current = getattr(record, version_key(record))
    if has_request_context():
        # The record this request edits: a StaleDataError at commit answers with its values.
        g.setdefault("crm_locked_records", []).append(record)
    if submitted is None or submitted == "":
        raise Conflict(record, MISSING)
    if isinstance(submitted, bool) or (isinstance(submitted, float) and not submitted.is_integer()):
        raise Conflict(record)
    try:
        version = int(submitted)
    except (TypeError, ValueError, OverflowError):  # None, "abc", 1e999
        raise Conflict(record) from None
    if version != current:
        raise Conflict(record)


def touch(record: Any) -> None:
    """Move ``record``'s version on when a change does not UPDATE its own row (its children,
    its many-to-many links), so that a form opened before sees the change as a conflict.

    One ``UPDATE ... SET version = version + 1`` without a version condition: two changes to
    different children of one record at the same moment both succeed (the second waits for the
    first's row lock) instead of the second failing as stale."""
    session = object_session(record)
    mapper = inspect(record).mapper
    column = mapper.version_id_col
    if column is None:
        raise TypeError(f"{type(record).__name__} has no version_id_col: it cannot be locked")
    session.flush()  # the record's own pending changes, checked against the version read
    table = mapper.local_table
    key = mapper.primary_key_from_instance(record)
    session.execute(
        update(table)
        .where(*[c == v for c, v in zip(mapper.primary_key, key, strict=True)])
        .values({column.name: column + 1})
    )
    session.expire(record, [version_key(record)])


def _current_values(record: Any) -> dict[str, Any] | None:
    """The record as the database has it now, shaped by its registered schema; None if gone."""

    try:
        db_session.refresh(record)
    except InvalidRequestError:  # deleted, or now hidden from this user by a record rule
        return None
    info = current_state().models.for_model(type(record))
    if info is not None:
        values = info.schema().dump(record)
    else:
        mapper = inspect(record).mapper
        # Never a password hash or a session token, whoever is looking.
        values = {
            a.key: to_text(getattr(record, a.key))
            for a in mapper.column_attrs
            if not any(word in a.key for word in ("password", "token", "secret"))
        }
    values.setdefault(version_key(record), getattr(record, version_key(record)))
    return values


def _labels(record: Any) -> dict[str, str]:

    info = current_state().models.for_model(type(record))
    return {f.name: f.label for f in info.fields} if info is not None else {}


def _stale_record(error: StaleDataError) -> Any:
    """The record a StaleDataError is about: one that ``check_version`` saw in this request, on
    the table the error names. The failed flush already forgot which objects it was writing."""
    candidates = g.get("crm_locked_records", [])
    named = [r for r in candidates if f"'{inspect(r).mapper.local_table.name}'" in str(error)]
    return (named or candidates or [None])[-1]


def conflict_response(record: Any, message: str = CHANGED):

    db_session.rollback()
    current = _current_values(record) if record is not None else None
    if record is not None and current is None:
        message = DELETED
    if wants_json():
        body: dict[str, Any] = {"errors": {"version": [message]}, "current": current}
        return jsonify(body), 409
    rows = []
    if current is not None:
        labels = _labels(record)
        for name, value in current.items():
            yours = request.form.get(name) if name in request.form else None
            rows.append((labels.get(name, name.replace("_", " ").capitalize()), value, yours))
    rule = request.url_rule
    reload_url = request.path if rule is not None and "GET" in (rule.methods or ()) else None
    return render_template(
        "core/conflict.html",
        message=message,
        rows=rows,
        submitted=request.method == "POST" and bool(request.form),
        reload_url=reload_url,
    ), 409


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(Conflict)
    def on_conflict(error: Conflict):
        return conflict_response(error.record, error.description or CHANGED)

    @app.errorhandler(StaleDataError)
    def on_stale_data(error: StaleDataError):
        return conflict_response(_stale_record(error))
