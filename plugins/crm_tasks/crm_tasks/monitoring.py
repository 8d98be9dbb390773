"""Monitoring of commitments: per commitment type and per representative, how many are open,
overdue, confirmed and rejected, and the confirmation rate, over a period and the one before it.

Definitions (also on the page):

- **open**: not completed nor cancelled now, and created before the end of the period;
- **overdue**: open, with a due date before today;
- **confirmed** / **rejected**: completed so within the period (``completed_at``);
- **confirmation rate**: confirmed / (confirmed + rejected), in per cent rounded half up to one
  decimal; none when nothing was completed.

Every figure is also a filter of the task list (``figure_filters``): the list of the tasks behind
a number counts the same tasks, through the same record rules.

A few SQL queries whatever the number of tasks (the figures and the names, per grouping, and the
representative × type table), through the request's session, so record rules apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from core.models import User
from crm_contacts.agenda import day_start
from crm_tasks import workflow
from crm_tasks.models import CommitmentType, Task

PERIODS = {
    "this_month": "This month",
    "this_quarter": "This quarter",
    "last_quarter": "Last quarter",
    "this_year": "This year",
    "custom": "Custom",
}


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # included

    @property
    def start(self) -> datetime:
        return day_start(self.first)

    @property
    def end(self) -> datetime:
        return day_start(self.last + timedelta(days=1))

    def before(self) -> Period:
        """The period of the same kind just before (the previous quarter for a quarter)."""
        days = (self.last - self.first).days + 1
        if self.first.day == 1 and (self.last + timedelta(days=1)).day == 1:
            months = (self.last.year - self.first.year) * 12 + self.last.month
            months += 1 - self.first.month
            first = _add_months(self.first, -months)
            return Period(first, self.first - timedelta(days=1))
        return Period(self.first - timedelta(days=days), self.first - timedelta(days=1))

    def label(self) -> str:
        return f"{self.first.isoformat()} – {self.last.isoformat()}"


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period_for(kind: str, today: date, first: date | None, last: date | None) -> Period:
    quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    if kind == "this_month":
        start = today.replace(day=1)
        return Period(start, _add_months(start, 1) - timedelta(days=1))
    if kind == "last_quarter":
        start = _add_months(quarter_start, -3)
        return Period(start, quarter_start - timedelta(days=1))
    if kind == "this_year":
        return Period(date(today.year, 1, 1), date(today.year, 12, 31))
    if kind == "custom" and first and last and first <= last:
        return Period(first, last)
    return Period(quarter_start, _add_months(quarter_start, 3) - timedelta(days=1))


# The counts of a Row, as the SQL of _sums labels them.
FIGURES = ("open", "overdue", "confirmed", "rejected", "previous_confirmed", "previous_rejected")


@dataclass
class Row:
    key: Any
    label: str
    open: int = 0
    overdue: int = 0
    confirmed: int = 0
    rejected: int = 0
    previous_confirmed: int = 0
    previous_rejected: int = 0

    @property
    def rate(self) -> Decimal | None:
        return rate(self.confirmed, self.rejected)

    @property
    def previous_rate(self) -> Decimal | None:
        return rate(self.previous_confirmed, self.previous_rejected)


def rate(confirmed: int, rejected: int) -> Decimal | None:
    done = confirmed + rejected
    if not done:
        return None
    return (Decimal(confirmed) * 100 / Decimal(done)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


def _sums(period: Period, previous: Period, today: date) -> list[Any]:
    def total(condition) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    is_open = and_(Task.status.in_(workflow.OPEN), Task.created_at < period.end)

    def completed(status: str, p: Period) -> Any:
        return and_(Task.status == status, Task.completed_at >= p.start, Task.completed_at < p.end)

    return [
        total(is_open).label("open"),
        total(and_(is_open, Task.due_date < today)).label("overdue"),
        total(completed(workflow.CONFIRMED, period)).label("confirmed"),
        total(completed(workflow.REJECTED, period)).label("rejected"),
        total(completed(workflow.CONFIRMED, previous)).label("previous_confirmed"),
        total(completed(workflow.REJECTED, previous)).label("previous_rejected"),
    ]


def _figures(session: Session, key: Any, period: Period, today: date) -> dict[Any, dict[str, int]]:
    """``{key: {figure: number}}`` of the tasks grouped by ``key`` (a column of Task)."""
    result = session.execute(
        select(key.label("key"), *_sums(period, period.before(), today)).group_by(key)
    )
    return {r.key: {name: int(getattr(r, name)) for name in FIGURES} for r in result}


def figure_filters(figure: str, period: Period) -> dict[str, str]:
    """The task list's query-string filters that select the tasks counted by ``figure`` over
    ``period``: the link behind each number of the page."""
    if figure in ("open", "overdue"):
        found = {"status": "open", "created_before": period.last.isoformat()}
        return {**found, "due": "overdue"} if figure == "overdue" else found
    if figure.startswith("previous_"):
        return figure_filters(figure.removeprefix("previous_"), period.before())
    status = workflow.CONFIRMED if figure == "confirmed" else workflow.REJECTED
    return {
        "status": status,
        "completed_from": period.first.isoformat(),
        "completed_to": period.last.isoformat(),
    }


@dataclass
class Matrix:
    """One figure per representative (rows) and commitment type (columns)."""

    reps: list[tuple[int | None, str]]
    types: list[tuple[int | None, str]]
    cells: dict[tuple[int | None, int | None], dict[str, int]]

    def get(self, rep: int | None, kind: int | None, figure: str) -> int:
        return self.cells.get((rep, kind), {}).get(figure, 0)


def by_representative_and_type(session: Session, period: Period, today: date) -> Matrix:
    keys = (Task.assigned_to_id.label("rep"), Task.commitment_type_id.label("kind"))
    result = session.execute(select(*keys, *_sums(period, period.before(), today)).group_by(*keys))
    cells = {(r.rep, r.kind): {name: int(getattr(r, name)) for name in FIGURES} for r in result}
    cells = {key: values for key, values in cells.items() if any(values.values())}
    rep_ids = {rep for rep, _ in cells}
    names = dict(
        session.execute(
            select(User.id, User.name).where(User.id.in_([r for r in rep_ids if r]))
        ).all()
    )
    reps = sorted(
        ((rep, names.get(rep, "Nobody") if rep else "Nobody") for rep in rep_ids),
        key=lambda item: (item[0] is None, item[1].lower()),
    )
    type_ids = {kind for _, kind in cells}
    types = [
        (t.id, t.name)
        for t in session.scalars(
            select(CommitmentType).order_by(CommitmentType.sort_order, CommitmentType.name)
        )
        if t.id in type_ids
    ]
    if None in type_ids:
        types.append((None, "No type"))
    return Matrix(reps, types, cells)


def by_type(session: Session, period: Period, today: date) -> list[Row]:
    figures = _figures(session, Task.commitment_type_id, period, today)
    types = session.scalars(
        select(CommitmentType).order_by(CommitmentType.sort_order, CommitmentType.name)
    ).all()
    rows = [
        Row(t.id, t.name, **figures.get(t.id, {})) for t in types if t.active or t.id in figures
    ]
    if None in figures:
        rows.append(Row(None, "No type", **figures[None]))
    return rows


def by_representative(session: Session, period: Period, today: date) -> list[Row]:
    figures = _figures(session, Task.assigned_to_id, period, today)
    names = dict(
        session.execute(
            select(User.id, User.name).where(User.id.in_([k for k in figures if k]))
        ).all()
    )
    rows = [
        Row(key, names.get(key, "Nobody") if key else "Nobody", **values)
        for key, values in figures.items()
    ]
    return sorted(rows, key=lambda r: (r.key is None, r.label.lower()))


def totals(rows: list[Row]) -> Row:
    total = Row(None, "Total")
    for row in rows:
        for name in FIGURES:
            setattr(total, name, getattr(total, name) + getattr(row, name))
    return total
