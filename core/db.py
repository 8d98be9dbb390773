"""Database plumbing: the declarative base, engines, and the session of the current request."""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app, g, has_app_context, has_request_context, request
from sqlalchemy import Engine, Integer, MetaData, create_engine, event, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    declared_attr,
    mapped_column,
    sessionmaker,
)
from werkzeug.local import LocalProxy

log = logging.getLogger(__name__)

# Deterministic constraint names: Alembic can then drop and alter constraints by name on every
# backend, and SQLite batch migrations do not trip over unnamed ones.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every model, the core's and the plugins'. Table names start with the module name."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Versioned:
    """Mixin of an editable model: a ``version`` the mapper checks on every UPDATE and DELETE
    (a save racing past ``core.locking.check_version`` matches no row and answers 409)."""

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}


# SQLite reads its file through memory mapped this far (0: through read() calls). SQLite caps it
# at its build's limit, 2 GB by default. Why: ``SQLITE_MMAP_SIZE`` in core/config.py.
SQLITE_MMAP_SIZE = 2**31


def make_engine(url: str, *, sqlite_mmap_size: int = SQLITE_MMAP_SIZE, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets foreign keys, WAL, real (transactional) DDL and its file
    read through memory mapped up to ``sqlite_mmap_size`` bytes. Every engine keeps the data
    versions of the tables it writes (``core.data_versions``)."""
    from core import data_versions  # it imports the models, which import this module

    if url.startswith("sqlite"):
        # The busy timeout: how long a write waits for another one's lock (``?timeout=`` wins).
        if "timeout" not in make_url(url).query:
            kwargs.setdefault("connect_args", {}).setdefault("timeout", 30)
        engine = create_engine(url, **kwargs)
        in_memory = ":memory:" in url or url.rstrip("/") == "sqlite:"
        _configure_sqlite(engine, in_memory, sqlite_mmap_size)
    else:
        engine = create_engine(url, pool_pre_ping=True, **kwargs)
        if engine.dialect.driver == "psycopg":
            event.listen(engine, "do_execute", _plan_patterns_each_time)
    data_versions.install(engine)
    return engine


def _plan_patterns_each_time(cursor: Any, statement: str, parameters: Any, _context: Any) -> bool:
    """psycopg prepares a statement at its fifth run on a connection, and PostgreSQL then plans
    it once for any parameters (a generic plan), which suits lookups by key. A ``LIKE`` pattern
    is different: how many rows "%ab%" or "%trandz%" match decides the plan (the trigram index
    for a rare fragment; for two letters, which no trigram serves, the order's index), and the
    generic plan of the client search took 240 ms for two letters at 100,000 clients instead of
    60. So a statement with a pattern is sent unprepared, planned for its values every time."""
    if "LIKE" in statement or "like" in statement:  # ILIKE too; a false match costs a plan
        cursor.execute(statement, parameters, prepare=False)
        return True
    return False


def _configure_sqlite(engine: Engine, in_memory: bool, mmap_size: int) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        # pysqlite opens transactions only before DML and runs DDL in autocommit mode, which would
        # leave a failed module install half-applied. Taking over BEGIN ourselves makes CREATE and
        # DROP part of the transaction, so an install is all or nothing on SQLite as on PostgreSQL.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA mmap_size={int(mmap_size)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        # A write request takes the write lock at its first statement (and waits for it, up to
        # the busy timeout): a deferred transaction that reads, then writes after another
        # writer committed, fails at once with "database is locked" whatever the timeout.
        immediate = connection.get_execution_options().get("crm_write_request")
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def is_sqlite(engine_or_session: Engine | Session) -> bool:
    bind = (
        engine_or_session.get_bind()
        if isinstance(engine_or_session, Session)
        else engine_or_session
    )
    return bind.dialect.name == "sqlite"


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
NO_WRITE_LOCK = "crm_no_write_lock"


def without_write_lock(view):
    """Mark a POST view that must not queue behind SQLite's write lock: one that writes nothing
    when a long job holds the lock (cancelling that very job), so waiting would only time out."""
    setattr(view, NO_WRITE_LOCK, True)
    return view


def get_engine() -> Engine:
    return current_app.extensions["crm"].engine


def get_session() -> Session:
    """The session of the current request or CLI command, created on first use."""
    # One lookup of ``g`` on the hot path: every use of ``db_session`` comes through here.
    session = g.get("crm_db_session")
    if session is None:
        session = g.crm_db_session = current_app.extensions["crm"].session_factory()
        if (
            has_request_context()
            and request.method not in SAFE_METHODS
            and is_sqlite(session)
            and not getattr(current_app.view_functions.get(request.endpoint), NO_WRITE_LOCK, False)
        ):
            session.connection(execution_options={"crm_write_request": True})
    return session


def close_session(_exc: BaseException | None = None) -> None:
    if has_app_context():
        session = g.pop("crm_db_session", None)
        if session is not None:
            session.close()


def end_read_transaction(exc: BaseException | None = None) -> None:
    """At the end of a request (before ``close_session``): a PostgreSQL transaction (psycopg)
    of a GET (HEAD, OPTIONS) request that wrote nothing ends with COMMIT rather than ROLLBACK,
    which is the same to the database. Why: psycopg forgets its prepared statements at every
    ROLLBACK, and a prepared statement is one the server does not plan again. Without them each
    of the client file's thirty statements was planned at every request, 0.5 to 1.6 ms each,
    where running it took 0.1 to 0.35. Anything written or pending (flushed or not, through the
    ORM, Core or text SQL: ``core.data_versions`` notes every INSERT, UPDATE and DELETE) is
    rolled back by ``close_session`` as ever, and so is the transaction of a request that
    failed."""
    session = g.get("crm_db_session")
    if exc is None and session is not None and _only_read(session):
        try:
            session.commit()
        except SQLAlchemyError:
            # The answer is given already; ``close_session`` rolls back what is left.
            log.warning("ending a read-only transaction failed", exc_info=True)


def _only_read(session: Session) -> bool:
    from core import data_versions  # it imports the models, which import this module

    if (
        request.method not in SAFE_METHODS
        or not session.in_transaction()
        or session.get_bind().dialect.driver != "psycopg"
        or session.new
        or session.dirty
        or session.deleted
    ):
        return False
    return not data_versions.pending_writes(session)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


#: ``from core.db import db_session`` gives the session of the current request or command.
db_session: Session = LocalProxy(get_session)  # type: ignore[assignment]
