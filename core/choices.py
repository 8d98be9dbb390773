"""Several short lists of choices read in one statement: a filter bar's or a form's select boxes.

On PostgreSQL every statement is a round trip: 0.13–0.2 ms on loopback, more across a network.
The client list's filter bar asked for its four lists (groups, regions, representatives, tags) one
after the other, a third of the statements of a search page. ``read_lists`` asks for them in one
``UNION ALL``; each list is numbered in its own order (``row_number() OVER``), so its rows come
back together and ordered as its own statement would give them.

Record rules apply as they would to each list alone: the session's rules reach every ``SELECT``
of a union.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal_column, union_all
from sqlalchemy.orm import Session

_LIST, _NUMBER = "crm_list", "crm_number"


def read_lists(
    session: Session, lists: dict[str, tuple[Select, Sequence[ColumnElement[Any]]]]
) -> dict[str, list[tuple]]:
    """``{name: (select of columns, order)}`` → ``{name: [row tuple, ...]}`` in that order.

    Every select names the same number of columns of compatible types (typically ``id, name``)
    and carries no ``ORDER BY`` or ``LIMIT`` of its own: ``order`` is its order."""
    names = list(lists)
    parts = [
        query.add_columns(
            literal_column(str(index)).label(_LIST),
            func.row_number().over(order_by=list(order)).label(_NUMBER),
        )
        for index, (query, order) in enumerate(lists.values())
    ]
    found: dict[str, list[tuple]] = {name: [] for name in names}
    if not parts:
        return found
    union = union_all(*parts)
    columns = union.selected_columns
    for row in session.execute(union.order_by(columns[_LIST], columns[_NUMBER])):
        *values, index, _number = row
        found[names[index]].append(tuple(values))
    return found
