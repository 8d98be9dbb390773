"""Optimistic locking: nothing a user saves silently overwrites a change made since they loaded it.

An editable model carries a version column declared as the mapper's ``version_id_col``::

    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}

Its forms carry the version in a hidden field and its API asks for it in the body of a PATCH. The
view calls ``check_version(record, submitted)`` before changing anything: a version that is not
the current one (or none at all) raises ``Conflict``. Between that check and the commit another
worker may still save; SQLAlchemy's UPDATE then matches no row (it is filtered on the version read)
and raises ``StaleDataError``. Both answer 409 through the handlers ``register_error_handlers``
installs: an HTML page with the record's current values next to the user's, or JSON
``{"errors": {"version": [...]}, "current": {...}}``. The transaction is rolled back either way.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g, has_request_context, jsonify, render_template, request
from sqlalchemy import inspect
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import Conflict as HTTPConflict

from core.audit import to_text
from core.db import db_session

CHANGED = (
    "This record was changed by someone else since you opened it. Nothing was saved: "
    "look at its current values, then redo your change."
)
DELETED = "This record was deleted by someone else since you opened it. Nothing was saved."


class Conflict(HTTPConflict):
    """The submitted version of ``record`` is not the current one (HTTP 409)."""

    def __init__(self, record: Any = None, message: str = CHANGED) -> None:
        super().__init__(description=message)
        self.record = record


def version_key(record: Any) -> str:
    mapper = inspect(record).mapper
    if mapper.version_id_col is None:
        raise TypeError(f"{type(record).__name__} has no version_id_col: it cannot be locked")
    return mapper.get_property_by_column(mapper.version_id_col).key


def check_version(record: Any, submitted: Any) -> None:
    """Raise ``Conflict`` unless ``submitted`` (a form's text or a JSON number) is the version of
    ``record`` as loaded now. A missing or unreadable version counts as stale: it cannot prove the
    user saw the current values."""
    current = getattr(record, version_key(record))
    if has_request_context():
        # The record this request edits: a StaleDataError at commit answers with its values.
        g.setdefault("crm_locked_records", []).append(record)
    if isinstance(submitted, bool):
        raise Conflict(record)
    try:
        version = int(submitted)
    except (TypeError, ValueError):
        raise Conflict(record) from None
    if version != current:
        raise Conflict(record)


def _current_values(record: Any) -> dict[str, Any] | None:
    """The record as the database has it now, shaped by its registered schema; None if gone."""
    from core.app import current_state

    try:
        db_session.refresh(record)
    except InvalidRequestError:  # deleted, or now hidden from this user by a record rule
        return None
    info = current_state().models.for_model(type(record))
    if info is not None:
        values = info.schema().dump(record)
    else:
        mapper = inspect(record).mapper
        values = {a.key: to_text(getattr(record, a.key)) for a in mapper.column_attrs}
    values.setdefault(version_key(record), getattr(record, version_key(record)))
    return values


def _labels(record: Any) -> dict[str, str]:
    from core.app import current_state

    info = current_state().models.for_model(type(record))
    return {f.name: f.label for f in info.fields} if info is not None else {}


def _stale_record(error: StaleDataError) -> Any:
    """The record a StaleDataError is about: one that ``check_version`` saw in this request, on
    the table the error names. The failed flush already forgot which objects it was writing."""
    candidates = g.get("crm_locked_records", [])
    named = [r for r in candidates if f"'{inspect(r).mapper.local_table.name}'" in str(error)]
    return (named or candidates or [None])[-1]


def conflict_response(record: Any, message: str = CHANGED):
    from core.app import wants_json

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
