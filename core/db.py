"""Database plumbing: the declarative base, engines, and the session of the current request."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, has_app_context
from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from werkzeug.local import LocalProxy

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


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets foreign keys, WAL and real (transactional) DDL."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {}).setdefault("timeout", 30)
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine, in_memory=":memory:" in url or url.rstrip("/") == "sqlite:")
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _configure_sqlite(engine: Engine, in_memory: bool) -> None:
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
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        # ``begin_write`` asks for the write lock up front (see there).
        immediate = connection.get_execution_options().get(WRITE_LOCK)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


WRITE_LOCK = "crm_begin_immediate"


def begin_write(session: Session) -> None:
    """Start the transaction of a read-check-write (stock taken only if enough is left) so that
    concurrent ones queue instead of failing. On SQLite a transaction that has read and then
    writes fails at once with "database is locked" when another writer committed since its read
    (WAL's snapshot rule: no busy wait helps), so the read-only transaction so far is ended and a
    new one starts with ``BEGIN IMMEDIATE``, which takes the write lock first and waits for it
    (the busy timeout). On PostgreSQL nothing is needed: row locks serialise the writers.
    Call it before the request writes anything: pending changes would be lost, so they refuse."""
    if not is_sqlite(session):
        return
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("begin_write must come before the request's first change")
    session.rollback()
    session.connection(execution_options={WRITE_LOCK: True})


def is_sqlite(engine_or_session: Engine | Session) -> bool:
    bind = (
        engine_or_session.get_bind()
        if isinstance(engine_or_session, Session)
        else engine_or_session
    )
    return bind.dialect.name == "sqlite"


def get_engine() -> Engine:
    return current_app.extensions["crm"].engine


def get_session() -> Session:
    """The session of the current request or CLI command, created on first use."""
    # One lookup of ``g`` on the hot path: every use of ``db_session`` comes through here.
    session = g.get("crm_db_session")
    if session is None:
        session = g.crm_db_session = current_app.extensions["crm"].session_factory()
    return session


def close_session(_exc: BaseException | None = None) -> None:
    if has_app_context():
        session = g.pop("crm_db_session", None)
        if session is not None:
            session.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


#: ``from core.db import db_session`` gives the session of the current request or command.
db_session: Session = LocalProxy(get_session)  # type: ignore[assignment]
