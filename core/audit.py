"""The audit trail (Odoo's field tracking): who changed what, when, from which value to which.

A model opts in with a class attribute:

- ``__crm_audit__ = True`` tracks every column except the primary key and the version column;
- ``__crm_audit__ = ("name", "status")`` tracks only the fields named (attribute names).

Every create, update and delete of an opted-in object that goes through a request's (or a CLI
command's) session is written to ``core_audit_log``, in the same transaction as the change, by an
``after_flush`` listener that ``install_audit`` puts on the session factory:

- **update**: one row per tracked field whose value changed, with the old and the new value;
  fields set to the value they already had, and the version column, leave no row;
- **create**: one row, ``field`` empty, ``new_value`` a JSON object of the tracked fields' initial
  values (so the history shows what the record started as);
- **delete**: one row, ``field`` empty, ``old_value`` a JSON object of the tracked fields' last
  loaded values (so the history shows what was deleted).

Values are stored as text: ``None`` as SQL NULL, dates and times in ISO 8601, ``Decimal`` with
``str`` (no float rounding), booleans as ``true``/``false``, anything else with ``str``. The user is
the one logged in through flask-login during a request; outside a request (CLI, jobs) it is empty.

The model is kept as its table name and fields as attribute names, never as foreign keys: the
history of a record outlives the record and the module that owned it, and ``history_for`` reads it
back without needing the model class.

Bulk statements (``session.execute(update(...))``, ``delete(...)``) bypass the unit of work and are
not recorded; change audited records through the ORM.
"""

from __future__ import annotations

import enum
import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from flask import has_request_context
from flask_login import current_user
from sqlalchemy import event, insert, inspect, select
from sqlalchemy.orm import Mapper, Session, sessionmaker
from sqlalchemy.orm.base import NO_VALUE

from core.db import Base
from core.models import AuditEntry, utcnow
from core.state import current_state

AUDIT_ATTRIBUTE = "__crm_audit__"


@functools.cache
def tracked_fields(mapper: Mapper) -> tuple[str, ...]:
    """The attribute keys ``mapper``'s class asked to be tracked; empty when it did not opt in."""
    wanted = getattr(mapper.class_, AUDIT_ATTRIBUTE, None)
    if not wanted:
        return ()
    skipped = {mapper.get_property_by_column(c).key for c in mapper.primary_key}
    if mapper.version_id_col is not None:
        skipped.add(mapper.get_property_by_column(mapper.version_id_col).key)
    columns = [attr.key for attr in mapper.column_attrs]
    if wanted is True:
        return tuple(key for key in columns if key not in skipped)
    unknown = set(wanted) - set(columns)
    if unknown:
        raise ValueError(
            f"{mapper.class_.__name__}.{AUDIT_ATTRIBUTE} names unknown columns: {sorted(unknown)}"
        )
    return tuple(key for key in wanted if key not in skipped)


def to_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return to_text(value.value)
    return str(value)  # Decimal included: str keeps every digit


def _record_id(mapper: Mapper, state) -> str:
    keys = [mapper.get_property_by_column(c).key for c in mapper.primary_key]
    return ",".join(str(state.dict.get(key)) for key in keys)


def _snapshot(state, fields: Iterable[str]) -> str:
    # Only what is loaded: after a DELETE was flushed, loading would fail.
    values = {}
    for key in fields:
        value = state.attrs[key].loaded_value
        if value is not NO_VALUE:
            values[key] = to_text(value)
    return json.dumps(values, ensure_ascii=False)


def _who() -> tuple[int | None, str]:
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user.id, current_user.login
    return None, ""


def _entries(session: Session) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def row(action: str, mapper: Mapper, state, **values: Any) -> None:
        rows.append(
            {
                "model": mapper.local_table.name,
                "record_id": _record_id(mapper, state),
                "action": action,
                "field": None,
                "old_value": None,
                "new_value": None,
                **values,
            }
        )

    for obj in session.new:
        state = inspect(obj)
        fields = tracked_fields(state.mapper)
        if fields:
            row("create", state.mapper, state, new_value=_snapshot(state, fields))
    for obj in session.dirty:
        state = inspect(obj)
        for key in tracked_fields(state.mapper):
            history = state.attrs[key].history
            if not history.has_changes():
                continue
            old = to_text(history.deleted[0]) if history.deleted else None
            new = to_text(history.added[0]) if history.added else None
            if old != new:
                row("update", state.mapper, state, field=key, old_value=old, new_value=new)
    for obj in session.deleted:
        state = inspect(obj)
        fields = tracked_fields(state.mapper)
        if fields:
            row("delete", state.mapper, state, old_value=_snapshot(state, fields))
    return rows


def install_audit(factory: sessionmaker[Session]) -> None:
    """Record the changes of opted-in models made through sessions of ``factory``."""
    for mapper in Base.registry.mappers:
        if mapper.configured:
            _load_old_values(mapper, mapper.class_)

    @event.listens_for(factory, "after_flush")
    def write_audit_entries(session: Session, _flush_context) -> None:
        # Attribute history and the new/dirty/deleted sets still describe this flush here (they
        # are reset after it), and new objects already have their ids.
        rows = _entries(session)
        if not rows:
            return
        user_id, login = _who()
        now = utcnow()
        for entry in rows:
            entry.update(at=now, user_id=user_id, user_login=login)
        session.connection().execute(insert(AuditEntry.__table__), rows)


_prepared: set[type] = set()


def _noop(*_args: Any) -> None:
    return None


@event.listens_for(Mapper, "mapper_configured")
def _load_old_values(mapper: Mapper, class_: type) -> None:
    """Make setting a tracked attribute load its old value when it is not loaded (expired, or
    deferred), so that an update never records an unknown old value as empty."""
    if class_ in _prepared:
        return
    _prepared.add(class_)
    for key in tracked_fields(mapper):
        event.listen(getattr(class_, key), "set", _noop, active_history=True)


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    user_id: int | None
    user_login: str
    action: str  # create | update | delete
    field: str | None
    old_value: str | None
    new_value: str | None
    values: tuple[tuple[str, str | None], ...] = ()  # the snapshot of a create or delete, labelled
    field_label: str = ""

    @property
    def label(self) -> str:
        return self.field_label or _humanise(self.field or "")


def _humanise(key: str) -> str:
    return key.removesuffix("_id").replace("_", " ").strip().capitalize()


# The column that names a referenced record in the history, first found wins.
NAMING_COLUMNS = ("name", "label", "title", "number", "code", "login")


def _mapper_of(table_name: str) -> Mapper | None:
    for mapper in Base.registry.mappers:
        if mapper.local_table is not None and mapper.local_table.name == table_name:
            return mapper
    return None


def _live_tables() -> set[str]:
    """The tables of the installed modules' models: a model class stays importable after its
    module was uninstalled, its table does not."""
    from flask import has_app_context

    if not has_app_context():
        return set()

    return {m.name for m in current_state().models}


class _Words:
    """Turns a model's attribute keys and stored values into the words people use: a column's
    ``info["label"]`` (or its humanised key without ``_id``) and, for a foreign key, the name of
    the record it pointed to ("Responsible: Maria Petrova → Ivan Georgiev"). The names of each
    referenced table are read in one query, whatever the number of entries."""

    def __init__(self, mapper: Mapper | None, live_tables: set[str]) -> None:
        self.mapper = mapper
        self.live_tables = live_tables
        self.wanted: dict[Any, set[str]] = {}  # referenced table -> ids
        self.names: dict[tuple[str, str], str] = {}

    def _column(self, key: str):
        if self.mapper is None or key not in self.mapper.attrs:
            return None
        columns = getattr(self.mapper.attrs[key], "columns", None)
        return columns[0] if columns else None

    def label(self, key: str) -> str:
        column = self._column(key)
        return (column.info.get("label") if column is not None else None) or _humanise(key)

    def _target(self, key: str):
        column = self._column(key)
        if column is None or not column.foreign_keys:
            return None
        target = next(iter(column.foreign_keys)).column
        name = target.table.name
        return target if name.startswith("core_") or name in self.live_tables else None

    def want(self, key: str | None, *values: str | None) -> None:
        target = self._target(key) if key else None
        if target is not None:
            self.wanted.setdefault(target, set()).update(v for v in values if v)

    def load(self, session: Session) -> None:
        for target, ids in self.wanted.items():
            table = target.table
            naming = next((table.c[n] for n in NAMING_COLUMNS if n in table.c), None)
            if naming is None or not ids:
                continue
            keys = sorted(ids)
            try:
                if target.type.python_type is int:
                    keys = [int(k) for k in keys if k.lstrip("-").isdigit()]
            except NotImplementedError:
                pass
            rows = session.execute(select(target, naming).where(target.in_(keys)))
            for key, name in rows:
                self.names[(table.name, str(key))] = str(name)

    def value(self, key: str | None, value: str | None) -> str | None:
        target = self._target(key) if key else None
        if target is None or value is None:
            return value
        # A record deleted since keeps its id in the history: better an id than nothing.
        return self.names.get((target.table.name, value), f"#{value}")


def _parse_snapshot(text: str | None) -> tuple[tuple[str, str | None], ...]:
    try:
        values = json.loads(text) if text else {}
    except ValueError:
        return ()
    return tuple(values.items()) if isinstance(values, dict) else ()


def history_for(
    session: Session, model_table: str, record_id: Any, limit: int = 50
) -> list[HistoryEntry]:
    """The audit entries of one record, newest first, in words: fields by their labels, foreign
    keys by the names of the records they point to. ``model_table`` is the table name, so this
    works after the module that owned the model was uninstalled (then keys and ids are shown).
    One query for the entries and one per table of referenced records."""
    entries = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.model == model_table, AuditEntry.record_id == str(record_id))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit)
    ).all()
    live = _live_tables()
    words = _Words(_mapper_of(model_table) if model_table in live else None, live)
    snapshots = {}
    for e in entries:
        if e.field is None:
            snapshots[e.id] = _parse_snapshot(e.new_value if e.action == "create" else e.old_value)
            for key, value in snapshots[e.id]:
                words.want(key, value)
        else:
            words.want(e.field, e.old_value, e.new_value)
    words.load(session)
    result = []
    for e in entries:
        at = e.at.replace(tzinfo=UTC) if e.at.tzinfo is None else e.at.astimezone(UTC)
        values = tuple(
            (words.label(key), words.value(key, value)) for key, value in snapshots.get(e.id, ())
        )
        result.append(
            HistoryEntry(
                at=at,
                user_id=e.user_id,
                user_login=e.user_login,
                action=e.action,
                field=e.field,
                old_value=words.value(e.field, e.old_value),
                new_value=words.value(e.field, e.new_value),
                values=values,
                field_label=words.label(e.field) if e.field else "",
            )
        )
    return result
