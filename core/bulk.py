"""Inserting many rows at once, for imports: ``insert_rows`` and ``insert_ids``; ``among``, a
condition on a batch of ids; and ``few_collections``, for work that makes millions of objects.

SQLAlchemy's Core ``insert(table)`` with a list of rows is what a module should use first. These
two exist for what it makes slow on SQLite, measured on the client import (100,000 clients and
their 800,000 persons, phones, emails and addresses):

- asked for the new ids in the order of the rows (``returning(..., sort_by_parameter_order=True)``)
  SQLAlchemy does not trust SQLite to return them in order and inserts one row per statement;
- for each row of an ``executemany`` it builds the parameters through the compiled statement,
  about 10 µs a row: seconds for a million rows that ``sqlite3`` binds itself.

So the rows go to the driver with the column defaults and type conversions of the table applied
once per column: SQLite's ``executemany``; PostgreSQL's ``COPY`` (SQLAlchemy's multi-row
``INSERT``s spent 30 s of CPU on the same import there). The ids are given (see ``insert_ids``).
Another database gets SQLAlchemy's Core insert.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from operator import itemgetter
from typing import Any

from sqlalchemy import ColumnElement, Integer, Table, any_, bindparam, insert, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session


def insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` in the session's transaction.
    Columns left out take their scalar default; a table with another kind of default for a
    column left out (a function, a SQL expression) goes through SQLAlchemy."""
    if not rows:
        return
    dialect = session.get_bind().dialect
    plan = _driver_plan(table, list(rows[0]), dialect)
    if plan is None or dialect.name not in ("sqlite", "postgresql"):
        session.execute(insert(table), rows)
        return
    names, keys, defaults, converters = plan
    # itemgetter reads a row's values in C: a generator per row cost 2 s of the client import.
    get = itemgetter(*keys)
    if len(keys) == 1:
        values = [(get(row), *defaults) for row in rows]
    else:
        values = [get(row) + defaults for row in rows]
    if converters:
        # Converted column by column: most columns have no conversion (text, numbers).
        columns = list(zip(*values, strict=True))
        for index, convert in converters.items():
            columns[index] = tuple(v if v is None else convert(v) for v in columns[index])
        values = list(zip(*columns, strict=True))
    quote = dialect.identifier_preparer
    into = f"{quote.format_table(table)} ({', '.join(quote.quote(n) for n in names)})"
    if dialect.name == "sqlite":
        marks = ", ".join("?" for _ in names)
        session.connection().exec_driver_sql(f"INSERT INTO {into} VALUES ({marks})", values)
        return
    # PostgreSQL: COPY, the bulk load the server is made for (psycopg writes the rows in C).
    driver = session.connection().connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(f"COPY {into} FROM STDIN") as copy:
        for row in values:
            copy.write_row(row)


def insert_ids(session: Session, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` into ``table`` (its key a column ``id``); their new ids, in order.

    On SQLite the first row is inserted alone: its ``INSERT`` takes the database's write lock
    until the transaction ends, so nobody else can insert meanwhile, and the other rows take the
    ids after it, given, in one ``executemany``. On PostgreSQL the ids are taken from the key's
    sequence first, then given to the rows (``COPY``)."""
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        first = session.execute(insert(table).values(rows[0]).returning(table.c.id)).scalar_one()
        ids = list(range(first, first + len(rows)))
        rows = rows[1:]
    elif dialect == "postgresql":
        ids = list(
            session.scalars(
                # The sequence looked up once (a CTE the planner keeps), not once per id:
                # 0.7 ms instead of 4-9 ms for a thousand ids.
                text(
                    "WITH seq AS MATERIALIZED (SELECT pg_get_serial_sequence(:table, 'id')"
                    "::regclass AS name) "
                    "SELECT nextval(seq.name) FROM seq, generate_series(1, :count) ORDER BY 1"
                ),
                {"table": table.fullname, "count": len(rows)},
            )
        )
    else:
        returning = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return list(session.scalars(returning, rows).all())
    given = ids[len(ids) - len(rows) :]
    insert_rows(session, table, [{**row, "id": id_} for id_, row in zip(given, rows, strict=True)])
    return ids


def among(column: Any, ids: list[int], session: Session) -> ColumnElement[bool]:
    """``column IN (ids)`` for a batch of ids: on PostgreSQL ``column = ANY(:ids)``, one array
    parameter instead of a thousand, so that the statement's text is the same for every batch
    (psycopg and the server parse and plan it once, SQLAlchemy renders no expanded list: 7 s of
    the re-check of 100,000 clients, 700 statements of 1,000 ids)."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam("among_ids", list(ids), type_=ARRAY(Integer)))
    return column.in_(ids)


def _driver_plan(
    table: Table, keys: list[str], dialect: Any
) -> tuple[list[str], list[str], tuple, dict[int, Callable[[Any], Any]]] | None:
    """The columns written (the keys of the rows, then those given their default), the keys read
    from each row, the defaults appended to it, and the type conversions by position; None when
    a default is not a plain value."""
    defaults, names = [], list(keys)
    for column in table.columns:
        if column.key in keys:
            continue
        default = column.default
        if default is None:
            continue
        if not default.is_scalar:
            return None
        names.append(column.key)
        defaults.append(default.arg)
    converters = {}
    for index, name in enumerate(names):
        if (process := table.c[name].type.bind_processor(dialect)) is not None:
            converters[index] = process
    return [table.c[n].name for n in names], keys, tuple(defaults), converters


# Python's default: a collection every 700 new container objects.
RARE_COLLECTIONS = (100_000, 50, 50)
_collections_lock = threading.Lock()
_callers_inside = 0  # of ``few_collections``: the first sets it up, the last undoes it
_thresholds_before: tuple[int, ...] = ()


@contextmanager
def few_collections() -> Iterator[None]:
    """Python's cyclic garbage collector, less often, while the block runs: for work that makes
    millions of objects and keeps many (an import's keys and rows). By default it runs every 700
    new objects and, now and then, walks every object the process holds, the application's
    included: 7 of the 20 s of CPU the process importing 100,000 clients spent. Inside, the
    objects alive before are frozen (never walked) and it runs every 100,000 new objects; both
    are undone when the last caller leaves. Reference counting frees the rest as ever."""
    global _callers_inside, _thresholds_before
    with _collections_lock:
        if not _callers_inside:
            _thresholds_before = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(*RARE_COLLECTIONS)
        _callers_inside += 1
    try:
        yield
    finally:
        with _collections_lock:
            _callers_inside -= 1
            if not _callers_inside:
                gc.set_threshold(*_thresholds_before)
                gc.unfreeze()
