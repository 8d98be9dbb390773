"""Requests and module changes that meet: no request sees a module half installed or half removed,
and a busy database answers 503, never 500.

On PostgreSQL every transaction of a request holds an advisory lock *shared*; installing,
uninstalling or upgrading a module takes it *exclusively* before anything else (a few seconds at
most: past that, it gives up with a message and nothing changed). The operation thus waits for
the requests in flight, and the requests that arrive meanwhile wait for it (a second or two) and
then read the new registry signal: none of them reads a table that is being dropped, none sees
the module's pages installed but its permissions gone. Lock first, then DDL: a DROP TABLE can no
longer deadlock with page reads.

What still slips through (a process that takes no shared lock, SQLite, a deadlock between two
requests) is caught once: a request that fails on a missing table, an aborted transaction, a
deadlock or a serialisation failure before it committed anything is run again from the start on
a fresh session, with the plugin state rebuilt if the registry moved. A second failure of that
kind, a lock that could not be had in time, or SQLite's "database is locked" answer 503 with
Retry-After.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, g, has_request_context, jsonify, render_template, request
from sqlalchemy import Connection, event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from core.state import wants_json

log = logging.getLogger(__name__)

#: The advisory lock key ("crm_mod"): advisory locks are per database, so two CRMs on one
#: server do not share it.
MODULE_LOCK_KEY = 0x63726D5F6D6F64
#: How long a module operation waits for the requests in flight before giving up.
MODULE_LOCK_WAIT = "10s"

BUSY = (
    "The application is busy (a module is being installed or removed, or the database is "
    "saving someone else's change). Nothing was saved: try again in a moment."
)
MODULE_BUSY = (
    "Requests in progress did not finish within {wait}, so the module change could not start. "
    "Nothing was changed: try again in a moment."
)

# SQLSTATEs after which running the request again from the start is safe and likely to work.
_RETRY_STATES = {
    "42P01",  # undefined_table: the module was uninstalled under the request
    "25P02",  # in_failed_sql_transaction: an earlier statement failed and was swallowed
    "40P01",  # deadlock_detected
    "40001",  # serialization_failure
}
_BUSY_STATES = {"55P03", "40P01", "40001"}  # lock_not_available, and the retriable conflicts


class ModuleLockTimeout(Exception):
    """A module operation could not get the module lock in time."""


def _sqlstate(error: BaseException) -> str | None:
    orig = getattr(error, "orig", None)
    return getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)


def is_retriable(error: BaseException) -> bool:
    if not isinstance(error, DBAPIError):
        return False
    if _sqlstate(error) in _RETRY_STATES:
        return True
    return isinstance(error, OperationalError) and "no such table" in str(error.orig)


def is_busy(error: BaseException) -> bool:
    if not isinstance(error, DBAPIError):
        return False
    if _sqlstate(error) in _BUSY_STATES:
        return True
    return isinstance(error, OperationalError) and "database is locked" in str(error.orig)


def lock_module_state(connection: Connection) -> None:
    """First statement of a module operation's transaction: wait (at most ``MODULE_LOCK_WAIT``)
    for the requests in flight, then hold every new one back until the commit."""
    if connection.dialect.name != "postgresql":
        return  # SQLite: the operation's writes take the database's one write lock anyway
    connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{MODULE_LOCK_WAIT}'")
    try:
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MODULE_LOCK_KEY})")
    except OperationalError as exc:
        if _sqlstate(exc) == "55P03":
            raise ModuleLockTimeout(MODULE_BUSY.format(wait=MODULE_LOCK_WAIT)) from exc
        raise
    # The lock is ours: the DDL waits only for processes outside requests (jobs, commands).
    connection.exec_driver_sql("SET LOCAL lock_timeout = '15s'")


def install_request_listeners(factory: sessionmaker[Session]) -> None:
    @event.listens_for(factory, "after_begin")
    def share_module_lock(_session: Session, _transaction: Any, connection: Connection) -> None:
        if not has_request_context() or connection.dialect.name != "postgresql":
            return
        # On the driver's cursor, not through SQLAlchemy: the statements a page costs (counted in
        # tests and benchmarks) stay the page's own.
        cursor = connection.connection.cursor()
        try:
            cursor.execute(f"SELECT pg_advisory_xact_lock_shared({MODULE_LOCK_KEY})")
        finally:
            cursor.close()

    @event.listens_for(factory, "after_commit")
    def remember_commit(_session: Session) -> None:
        # Running a request again after it committed would do its work twice.
        if has_request_context():
            g.crm_committed = True


class _RunAgain(Exception):
    pass


def _forget_request_state() -> None:
    """Everything a request keeps in ``g`` that the failed attempt may have read from the
    database: the next attempt starts from a fresh session and reads it again."""
    from core.db import close_session, db_session

    try:
        db_session.rollback()
    finally:
        close_session()
    for name in (
        "crm_state",
        "crm_access",
        "crm_record_criteria",
        "crm_record_options",
        "crm_template_context",
        "crm_record_owners",
        "crm_rules_per_row",
        "crm_locked_records",
        "crm_unread_notifications",
        "_login_user",
    ):
        g.pop(name, None)


class CrmFlask(Flask):
    """Flask, with a request that met a module change run once more (see the module's doc)."""

    def handle_user_exception(self, e: Exception) -> Any:
        if (
            has_request_context()
            and is_retriable(e)
            and not g.get("crm_retried")
            and not g.get("crm_committed")
        ):
            log.warning("request %s %s met %s: running it again", request.method, request.path, e)
            raise _RunAgain from e
        return super().handle_user_exception(e)

    def full_dispatch_request(self) -> Any:
        try:
            return super().full_dispatch_request()
        except _RunAgain:
            _forget_request_state()
            g.crm_retried = True
            return super().full_dispatch_request()


def busy_response(error: Exception) -> Any:
    """503 with Retry-After when ``error`` says the database was busy (or the request met a
    module change twice); None for any other error."""
    from core.db import db_session

    if not (is_busy(error) or (g.get("crm_retried") and is_retriable(error))):
        return None
    log.warning("database busy on %s %s: %s", request.method, request.path, error)
    db_session.rollback()
    if wants_json():
        response = jsonify(errors={"_schema": [BUSY]})
    else:
        page = render_template("core/error.html", code=503, message=BUSY)
        response = current_app.make_response(page)
    response.status_code = 503
    response.headers["Retry-After"] = "2"
    return response
