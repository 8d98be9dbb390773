"""Results of grouped reports kept in this process, reused while nothing they read has changed.

A representative's year of turnover by customer group and quarter reads some 170,000 sales lines
at 5,000,000: half a second of CPU on SQLite before the page draws anything. The same report is
opened again and again (the builder after each click, the dashboard, a shared report) while the
lines behind it change a few times a day, so its figures are kept, under a key of everything
they depend on:

- the database, the spec as it is written (``spec.raw``), the row limit, the dialect, the time
  zone and today (relative periods such as ``this_year`` move with the day);
- the record rules in force for the user on every table of the statement, compiled to SQL with
  their values (a representative's ``responsible_id = 7``): users restricted alike share a result,
  a representative never gets another user's figures, and an unrestricted user's are those of
  every unrestricted user;
- the registry signal (installs, uninstalls, a record rule switched on or off);
- the data version of every table the statement reads, its rules' subqueries included
  (``core.data_versions``): any committed write to one of them, from any process, moves it, and
  the next run misses and computes afresh.

A transaction that wrote one of those tables and has not committed neither uses nor fills the
cache: its figures may include rows that a rollback takes back. List reports (rows, pages,
exports) are not kept: their size has no bound and a page is cheap. Each process keeps its own
entries (at most ``MAX_ENTRIES``, least recently used out first): a miss costs what no cache costs.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sqlalchemy import Table, inspect
from sqlalchemy.exc import CompileError
from sqlalchemy.orm import Session
from sqlalchemy.sql.util import find_tables

from core.data_versions import pending_writes, versions
from core.record_rules import criteria_in_force
from core.state import current_state

MAX_ENTRIES = 256


class ResultCache:
    def __init__(self, size: int = MAX_ENTRIES) -> None:
        self.size = size
        self.entries: OrderedDict[tuple, Any] = OrderedDict()
        self.lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: tuple) -> Any:
        with self.lock:
            found = self.entries.get(key)
            if found is not None:
                self.entries.move_to_end(key)
                self.hits += 1
            else:
                self.misses += 1
            return found

    def put(self, key: tuple, value: Any) -> None:
        with self.lock:
            self.entries[key] = value
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.hits = self.misses = 0


RESULTS = ResultCache()


def _tables(element: Any) -> set[Table]:
    found = find_tables(element, check_columns=True, include_selects=True, include_joins=True)
    return {t for t in found if isinstance(t, Table)}


def _restriction(tables: set[Table], dialect: Any) -> tuple[tuple[set[Table], tuple], bool]:
    """(tables the rules of ``tables`` read, their criteria as SQL with values), and whether
    that could be said (a criterion whose values cannot be written as literals is not cached)."""
    criteria = criteria_in_force()
    read: set[Table] = set()
    compiled = []
    for model, condition in criteria.items():
        if inspect(model).local_table not in tables:
            continue
        try:
            text = str(condition.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        except (CompileError, NotImplementedError, TypeError):
            return (read, ()), False
        compiled.append((inspect(model).local_table.name, text))
        read |= _tables(condition)
    return (read, tuple(sorted(compiled))), True


def cached(session: Session, runner: Any, tables: set[Table], limit: int | None,
           compute: Callable[[], Any]) -> Any:  # fmt: skip
    """``compute()``'s result for ``runner``'s grouped spec, whose statement reads ``tables``,
    kept or computed (see above)."""
    dialect = session.get_bind().dialect
    (rule_tables, restriction), known = _restriction(tables, dialect)
    names = {t.name for t in tables | rule_tables}
    if not known or names & pending_writes(session):
        return compute()
    ctx = runner.ctx
    key = (
        session.get_bind().url.render_as_string(hide_password=True),  # two databases, one process
        json.dumps(runner.spec.raw, sort_keys=True, default=str),
        limit,
        ctx.dialect,
        ctx.zone,
        ctx.today,
        restriction,
        current_state().sequence,
        tuple(versions(session, names).items()),
    )
    found = RESULTS.get(key)
    if found is None:
        found = compute()
        RESULTS.put(key, found)
    return _copy(found)


def _copy(result: Any) -> Any:
    """A copy whose lists a caller may change without changing the kept result."""
    return replace(
        result,
        columns=list(result.columns),
        rows=[list(r) for r in result.rows],
        keys=[list(k) for k in result.keys],
        totals=list(result.totals) if result.totals is not None else None,
        pivot_keys=list(result.pivot_keys),
        record_ids=list(result.record_ids),
    )
