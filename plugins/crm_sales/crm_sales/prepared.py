"""Statements compiled once per database dialect and run on the session's connection.

The turnover figures of one client are index-only range scans of a few dozen lines that the
database answers in 5–20 µs; executing a statement through ``Session.execute`` costs about 60 µs
more (cache key, compiled-cache lookup, execution context, result processing), and
``Connection.exec_driver_sql`` still about 15 µs. A :class:`Prepared` statement is a Core
``select()`` written once with ``bindparam()``s; it is compiled for the dialect of the connection
(so the SQL and the paramstyle are those SQLAlchemy produces for SQLite, PostgreSQL, …) the
first time it runs there, and then executed on the DB-API cursor of the session's connection
(the same connection and transaction as everything else of the session), with the dialect's bind
processors applied to the parameters (a ``date`` becomes ISO text on SQLite).

It runs Core statements only: ORM events (and so record rules) do not apply, which is what the
turnover service wants (turnover is a fact of the installation; callers showing figures check
that the user may see the client). Results are the DB-API's raw rows: callers convert the values
(``int``, ``Decimal``) themselves.

When something watches the engine's statements (a ``before_cursor_execute`` or
``after_cursor_execute`` listener, e.g. a query counter or a tracing library, or SQL logging), the
same SQL and parameters go through ``Connection.exec_driver_sql`` instead, so that they see every
statement. DB-API errors are raised as SQLAlchemy's ``DBAPIError`` subclasses, as usual.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Date, exc
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeEngine

# Where a parameter's value comes from: (key in the caller's params, index in its list for an
# expanded ``IN``, bind processor, constant of the statement when the key is None).
_Source = tuple[str | None, int | None, Callable[[Any], Any] | None, Any]


def _processor(kind: TypeEngine, dialect: Dialect) -> Callable[[Any], Any] | None:
    """The dialect's bind processor of the type; a date's is remembered for the last few
    hundred dates (turnover figures are asked for the same few periods over and over, and
    formatting a date for SQLite costs as much as the rest of the parameters)."""
    processor = kind.dialect_impl(dialect).bind_processor(dialect)
    if processor is None or type(kind) is not Date:
        return processor
    return _Remembered(processor).__getitem__


class _Remembered(dict):
    """``processor(value)`` per value, computed once (a dictionary lookup afterwards)."""

    def __init__(self, processor: Callable[[Any], Any]) -> None:
        super().__init__()
        self.processor = processor

    def __missing__(self, value: Any) -> Any:
        if len(self) >= 512:
            self.clear()
        found = self[value] = self.processor(value)
        return found


class _Plan:
    """The SQL text of the statement for one dialect (and one length of each ``IN`` list) and where
    each of its DB-API parameters comes from."""

    __slots__ = ("names", "positional", "sources", "sql")

    def __init__(self, sql: str, positional: bool, names: tuple[str, ...], sources: tuple) -> None:
        self.sql, self.positional, self.names, self.sources = sql, positional, names, sources

    def parameters(self, params: Mapping[str, Any]) -> tuple | dict:
        values: list[Any] = []
        for key, index, processor, constant in self.sources:
            if key is None:
                values.append(constant)
                continue
            value = params[key] if index is None else params[key][index]
            values.append(value if processor is None else processor(value))
        if self.positional:
            return tuple(values)
        return dict(zip(self.names, values, strict=True))


class _Form:
    """The statement compiled for one dialect, with a plan per length of its ``IN`` lists."""

    __slots__ = ("compiled", "expanding", "plans", "processors", "user_binds")

    def __init__(self, statement: Executable, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        assert not compiled.escaped_bind_names, "use plain parameter names"
        self.compiled = compiled
        binds = {name: bind for bind, name in compiled.bind_names.items()}
        self.user_binds = {
            name: bind.key
            for name, bind in binds.items()
            if bind.required or bind.callable is not None
        }
        self.expanding = tuple(bind.key for bind in binds.values() if bind.expanding)
        # The dialect's bind processors (an ``IN`` list's elements get theirs from the expansion).
        self.processors = {
            name: _processor(bind.type, dialect)
            for name, bind in binds.items()
            if not bind.expanding
        }
        self.plans: dict[tuple[int, ...], _Plan] = {}

    def plan(self, params: Mapping[str, Any]) -> _Plan:
        lengths = tuple(len(params[key]) for key in self.expanding)
        found = self.plans.get(lengths)
        if found is None:
            found = self.plans[lengths] = self._new_plan(params)
        return found

    def _new_plan(self, params: Mapping[str, Any]) -> _Plan:
        """SQLAlchemy expands the statement for these lengths once; the plan remembers where each
        parameter of the result comes from, to build them for other values of the same lengths."""
        state = self.compiled.construct_expanded_state(params)
        expanded = {
            name: (key, index)
            for key, names in state.parameter_expansion.items()
            for index, name in enumerate(names)
        }
        positional = state.positiontup is not None
        names = tuple(state.positiontup if positional else state.parameters)
        sources: list[_Source] = []
        for name in names:
            processor = state.processors.get(name) or self.processors.get(name)
            if name in expanded:
                key, index = expanded[name]
                sources.append((key, index, processor, None))
            elif name in self.user_binds:
                sources.append((self.user_binds[name], None, processor, None))
            else:  # a constant of the statement (``kind = 'invoice'``): processed once here
                value = state.parameters[name]
                sources.append((None, None, None, processor(value) if processor else value))
        return _Plan(state.statement, positional, names, tuple(sources))


class Prepared:
    """A Core statement, compiled once per dialect, run with :meth:`rows`."""

    __slots__ = ("statement", "_forms", "_plans")

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._forms: dict[tuple[str, str, str], _Form] = {}
        # The plan of a statement without IN lists, per dialect object (one per engine).
        self._plans: dict[Dialect, _Plan] = {}

    def form(self, dialect: Dialect) -> _Form:
        key = (dialect.name, dialect.driver, dialect.paramstyle)
        found = self._forms.get(key)
        if found is None:
            found = self._forms[key] = _Form(self.statement, dialect)
        return found

    def plan(self, dialect: Dialect, params: Mapping[str, Any]) -> _Plan:
        found = self._plans.get(dialect)
        if found is not None:
            return found
        form = self.form(dialect)
        found = form.plan(params)
        if not form.expanding:
            self._plans[dialect] = found
        return found

    def rows(self, session: Session | Connection, params: Mapping[str, Any]) -> list[tuple]:
        """Every row of the statement run with ``params``, in the session's transaction (or on
        the connection given)."""
        connection = connection_of(session)
        dialect = connection.dialect
        plan = self._plans.get(dialect) or self.plan(dialect, params)
        sql, args = plan.sql, plan.parameters(params)
        engine = connection.engine
        if (  # something watches the statements: let it see this one
            engine.dispatch.before_cursor_execute
            or engine.dispatch.after_cursor_execute
            or engine.logger.isEnabledFor(logging.INFO)
        ):
            return [tuple(row) for row in connection.exec_driver_sql(sql, args)]
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            cursor.execute(sql, args)
            return cursor.fetchall()
        except dialect.loaded_dbapi.Error as error:
            raise exc.DBAPIError.instance(
                sql, args, error, dialect.loaded_dbapi.Error, dialect=dialect
            ) from error
        finally:
            cursor.close()

    def one(self, session: Session | Connection, params: Mapping[str, Any]) -> tuple:
        """The single row of an aggregate without ``GROUP BY``."""
        (row,) = self.rows(session, params)
        return row


def resolved(session: Session) -> Session:
    """The session itself when given a proxy of it (``core.db.db_session``): each attribute of
    the proxy looks the session up again, which a function running several statements does once."""
    if type(session) is Session:
        return session
    get = getattr(session, "_get_current_object", None)
    return get() if get is not None else session


_CONNECTION = "crm_sales.prepared.connection"


def connection_of(session: Session | Connection) -> Connection:
    """The connection of the session's transaction (``Session.connection()``, which begins one
    when needed), remembered in ``session.info`` for as long as that transaction lasts: asking
    the session costs more than the statements of the turnover service take to run."""
    kind = type(session)
    if kind is Connection:
        return session  # type: ignore[return-value]
    if kind is not Session:
        session = resolved(session)  # type: ignore[arg-type]
    transaction = session.get_transaction()
    if transaction is not None:
        known = session.info.get(_CONNECTION)
        if known is not None and known[0] is transaction and transaction.is_active:
            return known[1]
    connection = session.connection()
    session.info[_CONNECTION] = (session.get_transaction(), connection)
    return connection
