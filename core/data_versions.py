"""Data versions: a counter per table that grows with every committed write to the table.

Whatever computes figures from tables and keeps them (``crm_reports``' result cache) reads the
counters of those tables first, and reuses what it kept only while they have not moved. That is
valid across processes and hosts, since the counters live in the database like the registry
signal, and on SQLite as on PostgreSQL.

How a write is seen: every statement an engine runs is looked at (``after_cursor_execute``), and an
INSERT, UPDATE or DELETE notes its table on the connection, whatever issued it: the ORM's flush,
``session.execute(insert(...))``, Core, or text. At COMMIT the noted tables' counters are grown
in the same transaction, just before the COMMIT itself: the new data and the new counters become
visible together, and a rolled-back write grows nothing. A reader that read a counter before the
writer committed and its data after keeps newer data under the old number, which no one asks
for again once the counter moved: never stale figures. Growing the counters last keeps the row
lock they take on PostgreSQL for the length of the COMMIT alone; the tables are taken in name
order, so two writers never wait for each other crosswise.

Not seen: writes of another program straight into the database file (``sqlite3``, ``psql``) and
DDL; installs and uninstalls move the registry signal, which a cache keys on as well.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Engine, event, select
from sqlalchemy.orm import Session

from core.models import DataVersion

TABLE = DataVersion.__tablename__
_NOTED = "crm_written_tables"
_ready_engines: weakref.WeakSet[Engine] = weakref.WeakSet()
_WRITE = re.compile(
    r"\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+[\"`]?(\w+)", re.IGNORECASE
)


def install(engine: Engine) -> None:
    """Note the writes of every connection of ``engine`` and grow their counters at COMMIT."""

    @event.listens_for(engine, "after_cursor_execute")
    def note_write(conn, _cursor, statement, _parameters, context, _executemany) -> None:
        name = None
        compiled = getattr(context, "compiled", None)
        if compiled is not None and getattr(compiled, "isinsert", False) | getattr(
            compiled, "isupdate", False
        ) | getattr(compiled, "isdelete", False):
            # A compiled INSERT, UPDATE or DELETE names its table, whatever comes first (WITH).
            name = getattr(getattr(compiled.statement, "table", None), "name", None)
        if name is None:
            match = _WRITE.match(statement)  # text SQL
            name = match.group(1) if match is not None else None
        if name is not None and name != TABLE:
            conn.info.setdefault(_NOTED, set()).add(name)

    @event.listens_for(engine, "commit")
    def grow(conn: Connection) -> None:
        written = conn.info.pop(_NOTED, None)
        if written and _ready(conn):
            _grow(conn, sorted(written))

    @event.listens_for(engine, "rollback")
    def forget(conn: Connection) -> None:
        conn.info.pop(_NOTED, None)

    # ``Connection.info`` lives as long as the pooled connection: nothing noted outlives a checkout.
    @event.listens_for(engine, "checkin")
    def forget_on_checkin(_dbapi_connection, record) -> None:
        record.info.pop(_NOTED, None)


def _placeholder(conn: Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def _ready(conn: Connection) -> bool:
    """Whether the counters' table exists (not before the core's migration ran). Asked on the
    driver's cursor: the engine is in the middle of its COMMIT."""
    if conn.engine in _ready_engines:
        return True
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        if conn.dialect.name == "sqlite":
            cursor.execute(f"SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '{TABLE}'")
        else:
            cursor.execute(f"SELECT to_regclass('{TABLE}')")
        row = cursor.fetchone()
    finally:
        cursor.close()
    found = row is not None and row[0] is not None
    if found:
        _ready_engines.add(conn.engine)  # the core is never uninstalled: once there, always
    return found


def _grow(conn: Connection, tables: list[str]) -> None:
    mark = _placeholder(conn)
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        for name in tables:
            cursor.execute(
                f"INSERT INTO {TABLE} (name, version) VALUES ({mark}, 1) ON CONFLICT (name) "
                f"DO UPDATE SET version = {TABLE}.version + 1",
                (name,),
            )
    finally:
        cursor.close()


def versions(session: Session, tables: Iterable[str]) -> dict[str, int]:
    """The committed counters of ``tables`` (0 for a table never written since they exist)."""
    names = sorted(set(tables))
    found = dict(
        session.execute(
            select(DataVersion.name, DataVersion.version).where(DataVersion.name.in_(names)),
            execution_options={"crm_all_records": True},
        ).all()
    )
    return {name: found.get(name, 0) for name in names}


def pending_writes(session: Session) -> set[str]:
    """The tables this session's transaction wrote and has not committed yet: figures computed
    now may include rows that a rollback takes back."""
    if not session.in_transaction():
        return set()
    connection: Any = session.connection()
    return set(connection.info.get(_NOTED, ()))
