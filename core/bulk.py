"""Inserting many rows at once, for imports: ``insert_rows`` and ``insert_ids``.

SQLAlchemy's Core ``insert(table)`` with a list of rows is what a module should use first. These
two exist for what it makes slow on SQLite, measured on the client import (100,000 clients and
their 800,000 persons, phones, emails and addresses):

- asked for the new ids in the order of the rows (``returning(..., sort_by_parameter_order=True)``)
  SQLAlchemy does not trust SQLite to return them in order and inserts one row per statement;
- for each row of an ``executemany`` it builds the parameters through the compiled statement,
  about 10 µs a row: seconds for a million rows that ``sqlite3`` binds itself.

So on SQLite the rows go to the driver's ``executemany`` with the column defaults and type
conversions of the table applied once per column, and the ids are given (see ``insert_ids``).
Elsewhere (PostgreSQL) both are SQLAlchemy's Core insert, which is efficient there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session


def insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` in the session's transaction.
    Columns left out take their scalar default; a table with another kind of default for a
    column left out (a function, a SQL expression) goes through SQLAlchemy."""
    if not rows:
        return
    dialect = session.get_bind().dialect
    plan = _driver_plan(table, list(rows[0]), dialect) if dialect.name == "sqlite" else None
    if plan is None:
        session.execute(insert(table), rows)
        return
    sql, keys, defaults, converters = plan
    values = [tuple(row[k] for k in keys) + defaults for row in rows]
    if converters:
        # Converted column by column: most columns have no conversion (text, numbers).
        columns = list(zip(*values, strict=True))
        for index, convert in converters.items():
            columns[index] = tuple(v if v is None else convert(v) for v in columns[index])
        values = list(zip(*columns, strict=True))
    session.connection().exec_driver_sql(sql, values)


def insert_ids(session: Session, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` into ``table`` (its key a column ``id``); their new ids, in order.

    On SQLite the first row is inserted alone: its ``INSERT`` takes the database's write lock
    until the transaction ends, so nobody else can insert meanwhile, and the other rows take the
    ids after it, given, in one ``executemany``."""
    if not rows:
        return []
    if session.get_bind().dialect.name != "sqlite":
        returning = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return list(session.scalars(returning, rows).all())
    first = session.execute(insert(table).values(rows[0]).returning(table.c.id)).scalar_one()
    insert_rows(
        session, table, [{**row, "id": first + i} for i, row in enumerate(rows[1:], start=1)]
    )
    return list(range(first, first + len(rows)))


def _driver_plan(
    table: Table, keys: list[str], dialect: Any
) -> tuple[str, list[str], tuple, dict[int, Callable[[Any], Any]]] | None:
    """The statement for the driver, the keys read from each row, the defaults appended to it,
    and the type conversions by position; None when a default is not a plain value."""
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
    quote = dialect.identifier_preparer
    columns = ", ".join(quote.quote(table.c[n].name) for n in names)
    marks = ", ".join("?" for _ in names)
    sql = f"INSERT INTO {quote.format_table(table)} ({columns}) VALUES ({marks})"
    return sql, keys, tuple(defaults), converters
