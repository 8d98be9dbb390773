"""The turnover service: net trade turnover (invoices less credit notes) in the installation
currency, computed in SQL, one query per call whatever the number of lines.

Used by the pricing engine (turnover tiers), the analysis page, the client-file section and
reports. Dates are inclusive. ``product_group_ids`` restricts to those groups **and all their
subgroups** (``None``: every line, including products without a group). Clients are given as ids,
or as a customer group (``client_ids=None, customer_group_id=…``), or neither (every client).

- ``turnover(session, client_ids, start, end, product_group_ids=None, *, quantity=False)``
- ``turnover_by_client(...)`` → ``{client_id: Decimal}`` for many clients in one query
- ``turnover_by_period(..., period="month"|"quarter"|"half"|"year")`` → ``{Period: Decimal}``
  with every period of the range present (zero when nothing was sold)
- ``average_days_to_payment(session, client_id, start=None, end=None)`` → ``Decimal | None``:
  days from invoice to payment, weighted by the amounts paid

Turnover is a fact of the installation, not of who asks: record rules do not apply here (a
client's price must not depend on who quotes it). Callers that show figures to a user check that
the user may see the client, as the analysis page and the API do.

The statements are built once (per shape) with bound parameters and reused: building a
SQLAlchemy statement costs more than running these index-only queries, so at 50 lines per client
the service's own cost stays near 50 µs per call.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache

from sqlalchemy import ColumnElement, Select, bindparam, extract, func, select
from sqlalchemy.orm import Session

from crm_contacts.models import Client
from crm_sales.models import Payment, ProductGroup, SalesDocument, SalesLine
from crm_sales.settings import from_cents

QUANTUM = Decimal("0.0001")
PERIOD_MONTHS = {"month": 1, "quarter": 3, "half": 6, "year": 12}
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True, order=True)
class Period:
    """A calendar month, quarter, half-year or year: ``Period("quarter", 2026, 3)`` is Q3 2026."""

    kind: str
    year: int
    index: int

    @classmethod
    def containing(cls, kind: str, day: date) -> Period:
        return cls(kind, day.year, (day.month - 1) // PERIOD_MONTHS[kind] + 1)

    @property
    def start(self) -> date:
        return date(self.year, (self.index - 1) * PERIOD_MONTHS[self.kind] + 1, 1)

    @property
    def end(self) -> date:
        return self.next().start - timedelta(days=1)

    def next(self) -> Period:
        per_year = 12 // PERIOD_MONTHS[self.kind]
        if self.index == per_year:
            return Period(self.kind, self.year + 1, 1)
        return Period(self.kind, self.year, self.index + 1)

    def previous(self) -> Period:
        if self.index == 1:
            return Period(self.kind, self.year - 1, 12 // PERIOD_MONTHS[self.kind])
        return Period(self.kind, self.year, self.index - 1)

    def year_before(self) -> Period:
        return Period(self.kind, self.year - 1, self.index)

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{MONTH_NAMES[self.index - 1]} {self.year}"
        if self.kind == "quarter":
            return f"Q{self.index} {self.year}"
        if self.kind == "half":
            return f"H{self.index} {self.year}"
        return str(self.year)

    @property
    def short_label(self) -> str:
        """Without the year: for charts comparing the same periods of two years."""
        if self.kind == "year":
            return str(self.year)
        return self.label.rsplit(" ", 1)[0]


def periods_between(kind: str, start: date, end: date) -> list[Period]:
    if kind not in PERIOD_MONTHS:
        raise ValueError(f"period must be one of {', '.join(PERIOD_MONTHS)}")
    found, period = [], Period.containing(kind, start)
    while period.start <= end:
        found.append(period)
        period = period.next()
    return found


_LINES = SalesLine.__table__
_GROUPS = ProductGroup.__table__
_CLIENTS = Client.__table__


@lru_cache(maxsize=64)
def _statement(shape: str, scope: str, by_group: bool, quantity: bool) -> Select:
    """The query of one shape ("total", "client" or "month"), clients given as ids ("clients"),
    a customer group ("customer_group") or all ("all"), with or without product groups; built
    once, run with ``start``, ``end``, ``clients``, ``customer_group``, ``groups`` parameters."""
    lines = _LINES.c
    measure = func.sum(lines.signed_quantity if quantity else lines.signed_cents)
    conditions: list[ColumnElement[bool]] = []
    if scope == "clients":
        conditions.append(lines.client_id.in_(bindparam("clients", expanding=True)))
    elif scope == "customer_group":
        conditions.append(
            lines.client_id.in_(
                select(_CLIENTS.c.id).where(
                    _CLIENTS.c.customer_group_id == bindparam("customer_group")
                )
            )
        )
    conditions += [lines.date >= bindparam("start"), lines.date <= bindparam("end")]
    if by_group:
        ancestor = _GROUPS.alias("ancestor")
        conditions.append(
            lines.group_id.in_(
                select(_GROUPS.c.id)
                .join(ancestor, _GROUPS.c.path.startswith(ancestor.c.path))
                .where(ancestor.c.id.in_(bindparam("groups", expanding=True)))
            )
        )
    if shape == "client":
        stmt = select(lines.client_id, measure).where(*conditions).group_by(lines.client_id)
    elif shape == "month":
        year, month = extract("year", lines.date), extract("month", lines.date)
        stmt = select(year, month, measure).where(*conditions).group_by(year, month)
    else:
        stmt = select(measure).where(*conditions)
    return stmt.execution_options(crm_all_records=True)


def _run(
    session: Session,
    shape: str,
    client_ids: Iterable[int] | None,
    start: date,
    end: date,
    product_group_ids: Iterable[int] | None,
    quantity: bool,
    customer_group_id: int | None,
):
    """The rows of the statement of that shape, or None when there can be nothing."""
    clients = None if client_ids is None else list(client_ids)
    groups = None if product_group_ids is None else list(product_group_ids)
    if (clients is not None and not clients) or (groups is not None and not groups):
        return None
    params: dict = {"start": start, "end": end}
    if clients is not None:
        scope, params["clients"] = "clients", clients
    elif customer_group_id is not None:
        scope, params["customer_group"] = "customer_group", customer_group_id
    else:
        scope = "all"
    if groups is not None:
        params["groups"] = groups
    stmt = _statement(shape, scope, groups is not None, quantity)
    return session.execute(stmt, params)


def _value(raw, quantity: bool) -> Decimal:
    if quantity:
        return Decimal(str(raw or 0)).quantize(QUANTUM)
    return from_cents(raw)


def turnover(
    session: Session,
    client_ids: Iterable[int] | None,
    start: date,
    end: date,
    product_group_ids: Iterable[int] | None = None,
    *,
    quantity: bool = False,
    customer_group_id: int | None = None,
) -> Decimal:
    """Net turnover (or net quantity) of those clients between ``start`` and ``end`` inclusive."""
    rows = _run(
        session, "total", client_ids, start, end, product_group_ids, quantity, customer_group_id
    )
    return _value(None if rows is None else rows.scalar(), quantity)


def turnover_by_client(
    session: Session,
    client_ids: Iterable[int] | None,
    start: date,
    end: date,
    product_group_ids: Iterable[int] | None = None,
    *,
    quantity: bool = False,
    customer_group_id: int | None = None,
) -> dict[int, Decimal]:
    """``{client_id: turnover}`` for many clients in one query (clients without sales are
    absent)."""
    rows = _run(
        session, "client", client_ids, start, end, product_group_ids, quantity, customer_group_id
    )
    return {} if rows is None else {cid: _value(raw, quantity) for cid, raw in rows}


def turnover_by_period(
    session: Session,
    client_ids: Iterable[int] | None,
    start: date,
    end: date,
    period: str = "month",
    product_group_ids: Iterable[int] | None = None,
    *,
    quantity: bool = False,
    customer_group_id: int | None = None,
) -> dict[Period, Decimal]:
    """Turnover per calendar ``period`` ("month", "quarter", "half" or "year") between ``start``
    and ``end``: every period of the range is present, in order. One query (by month; coarser
    periods are sums of months)."""
    periods = periods_between(period, start, end)
    result = {p: _value(0, quantity) for p in periods}
    for (year, month), value in monthly(
        session,
        client_ids,
        start,
        end,
        product_group_ids,
        quantity=quantity,
        customer_group_id=customer_group_id,
    ).items():
        key = Period.containing(period, date(year, month, 1))
        result[key] += value
    return result


def monthly(
    session: Session,
    client_ids: Iterable[int] | None,
    start: date,
    end: date,
    product_group_ids: Iterable[int] | None = None,
    *,
    quantity: bool = False,
    customer_group_id: int | None = None,
) -> dict[tuple[int, int], Decimal]:
    """``{(year, month): turnover}`` of the months with sales, in one query."""
    rows = _run(
        session, "month", client_ids, start, end, product_group_ids, quantity, customer_group_id
    )
    if rows is None:
        return {}
    return {(int(y), int(m)): _value(raw, quantity) for y, m, raw in rows}


_PAYMENTS = Payment.__table__
_DOCUMENTS = SalesDocument.__table__
_DAYS_TO_PAYMENT = (
    select(func.sum(_PAYMENTS.c.amount * _PAYMENTS.c.days), func.sum(_PAYMENTS.c.amount))
    .select_from(_PAYMENTS.join(_DOCUMENTS, _PAYMENTS.c.document_id == _DOCUMENTS.c.id))
    .where(
        _DOCUMENTS.c.client_id == bindparam("client"),
        _DOCUMENTS.c.kind == "invoice",
        _DOCUMENTS.c.date >= bindparam("start"),
        _DOCUMENTS.c.date <= bindparam("end"),
    )
    .execution_options(crm_all_records=True)
)


def average_days_to_payment(
    session: Session, client_id: int, start: date | None = None, end: date | None = None
) -> Decimal | None:
    """Average days from invoice date to payment, weighted by the amounts paid, over the
    client's invoices dated in the range (all of them by default); None when nothing was paid."""
    weighted, paid = session.execute(
        _DAYS_TO_PAYMENT,
        {"client": client_id, "start": start or date.min, "end": end or date.max},
    ).one()
    if not paid:
        return None
    return (Decimal(str(weighted)) / Decimal(str(paid))).quantize(Decimal("0.1"))
