"""The trade turnover analysis of one client: a year against the year before, by month, quarter,
half-year and year, by product group, top products, and the average days to payment.

Eight queries whatever the client's history, those on lines index-only range scans of the
covering index: months of both years, this year so far against the same days of last year,
product groups (and the group names), top products (last year's figures for them, and their
names), and payments. Everything the page, the CSV and the XLSX export show comes from here.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from sqlalchemy import bindparam, case, extract, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from core import csvfiles
from core.timezone import local_today
from crm_sales.models import Product, ProductGroup, SalesLine
from crm_sales.prepared import Prepared, connection_of
from crm_sales.settings import CENT, from_cents, installation_currency
from crm_sales.turnover import (
    PERIOD_MONTHS,
    Period,
    average_days_to_payment,
    monthly_cents,
    periods_between,
)

TOP_PRODUCTS = 10
PERIOD_TITLES = {"month": "Month", "quarter": "Quarter", "half": "Half-year", "year": "Year"}
ZERO = Decimal("0.00")

# The statements, built once with bound parameters (building one costs more than running it).
_L = SalesLine.__table__.c
_P = Product.__table__.c
_G = ProductGroup.__table__.c
_IS_CURRENT = _L.date >= bindparam("jan")
_OF_CLIENT = (_L.client_id == bindparam("client"), _L.date >= bindparam("start"))
_TO_DATE = Prepared(
    select(
        func.sum(case((_IS_CURRENT, _L.signed_cents), else_=0)),
        func.sum(case((_IS_CURRENT, 0), else_=_L.signed_cents)),
    ).where(
        *_OF_CLIENT, _L.date <= bindparam("end"), _IS_CURRENT | (_L.date <= bindparam("before"))
    )
)
# The client file's summary: each month since 1 January last year, and what of it falls on or
# before the same day last year (what the year so far is compared with).
_YEAR_MONTH = (extract("year", _L.date), extract("month", _L.date))
_MONTHS_TO_DATE = Prepared(
    select(
        *_YEAR_MONTH,
        func.sum(_L.signed_cents),
        func.sum(case((_L.date <= bindparam("before"), _L.signed_cents), else_=0)),
    )
    .where(*_OF_CLIENT, _L.date <= bindparam("end"))
    .group_by(*_YEAR_MONTH)
)
_BY_GROUP = Prepared(
    select(
        _L.group_id,
        func.sum(case((_IS_CURRENT, _L.signed_cents), else_=0)),
        func.sum(case((_IS_CURRENT, 0), else_=_L.signed_cents)),
    )
    .where(*_OF_CLIENT, _L.date <= bindparam("end"), _IS_CURRENT | (_L.date <= bindparam("before")))
    .group_by(_L.group_id)
)
_TOP_PRODUCTS = Prepared(
    select(_L.product_id, func.sum(_L.signed_cents))
    .where(_L.client_id == bindparam("client"), _IS_CURRENT, _L.date <= bindparam("end"))
    .group_by(_L.product_id)
    .order_by(func.sum(_L.signed_cents).desc(), _L.product_id)
    .limit(TOP_PRODUCTS)
)
_PRODUCTS_BEFORE = Prepared(
    select(_L.product_id, func.sum(_L.signed_cents))
    .where(*_OF_CLIENT, _L.date < bindparam("jan"), _L.date <= bindparam("before"),
           _L.product_id.in_(bindparam("ids", expanding=True)))
    .group_by(_L.product_id)
)  # fmt: skip
_NAMES = Prepared(
    select(_P.id, _P.code, _P.name).where(_P.id.in_(bindparam("ids", expanding=True)))
)
_GROUP_NAMES = Prepared(select(_G.id, _G.name, _G.path))
# "Jan" … "Dec", "Q1" … "Q4", "H1", "H2": the labels of a year's periods in the tables.
_SHORT_LABELS = {
    kind: tuple(Period(kind, 2000, i + 1).short_label for i in range(12 // size))
    for kind, size in PERIOD_MONTHS.items()
}


def growth(current: Decimal, previous: Decimal) -> Decimal | None:
    """Change in % of ``previous``, one decimal, half up; None when there was nothing before."""
    if not previous:
        return None
    return ((current - previous) * 100 / abs(previous)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


class Row(NamedTuple):
    """One line of a comparison table: this year's figure against last year's.

    ``state`` says how far the period has got on the day of the analysis: ``done``; ``running``
    (``current`` so far, ``previous`` the same days of last year, ``previous_full`` the whole
    period of last year); or ``ahead`` (not begun: nothing to compare, so no change is shown).
    Comparing a period that has just begun with the whole of last year's would show a fall that
    is not one.
    """

    label: str
    current: Decimal
    previous: Decimal
    state: str = "done"
    previous_full: Decimal | None = None

    @property
    def change(self) -> Decimal | None:
        return None if self.state == "ahead" else self.current - self.previous

    @property
    def growth(self) -> Decimal | None:
        return None if self.state == "ahead" else growth(self.current, self.previous)


@dataclass
class Analysis:
    client_id: int
    year: int
    currency: str
    periods: dict[str, list[Row]] = field(default_factory=dict)
    to_date: Row | None = None
    to_date_until: date | None = None
    groups: list[Row] = field(default_factory=list)
    products: list[tuple[str, str, Decimal, Decimal]] = field(default_factory=list)
    days_to_payment: Decimal | None = None

    @property
    def total(self) -> Row:
        return self.periods["year"][0]


def client_analysis(
    session: Session, client_id: int, year: int, on: date | None = None
) -> Analysis:
    """The analysis of ``year`` against ``year - 1``; ``on`` (default today) is the day up to
    which "this year so far" is compared with the same days of last year."""
    on = on or local_today()
    connection = connection_of(session)
    start, end = date(year - 1, 1, 1), date(year, 12, 31)
    result = Analysis(client_id=client_id, year=year, currency=installation_currency())
    running = on.year == year
    result.to_date = year_to_date(connection, client_id, on) if running else None
    result.to_date_until = on if running else None
    # Months of both years in cents, then as amounts added up into quarters, half-years and the
    # year: sums of amounts in cents are exact.
    current, previous = [0] * 12, [0] * 12
    for y, m, cents in monthly_cents(connection, client_id, start, end):
        (current if y == year else previous)[int(m) - 1] += cents
    now = [Decimal(c) * CENT for c in current]  # from_cents, inlined
    before = [Decimal(c) * CENT for c in previous]
    quarters = [now[i] + now[i + 1] + now[i + 2] for i in (0, 3, 6, 9)]
    quarters_before = [before[i] + before[i + 1] + before[i + 2] for i in (0, 3, 6, 9)]
    halves = [quarters[0] + quarters[1], quarters[2] + quarters[3]]
    halves_before = [
        quarters_before[0] + quarters_before[1],
        quarters_before[2] + quarters_before[3],
    ]
    sums = {
        "month": (now, before),
        "quarter": (quarters, quarters_before),
        "half": (halves, halves_before),
        "year": ([halves[0] + halves[1]], [halves_before[0] + halves_before[1]]),
    }
    ytd_before = result.to_date.previous if running else ZERO
    for kind, size in PERIOD_MONTHS.items():
        labels = _SHORT_LABELS[kind] if kind != "year" else (f"{year} / {year - 1}",)
        result.periods[kind] = _rows(
            labels, *sums[kind], _running_index(size, year, on), ytd_before
        )

    # By product group, largest first (then last year's, then the name).
    # Last year's figures stop at the same day as this year's while this year runs.
    params = {
        "client": client_id,
        "start": start,
        "end": on if running else end,
        "jan": date(year, 1, 1),
        "before": same_day_last_year(on) if running else date(year - 1, 12, 31),
    }
    names = _group_names(connection)
    by_group = sorted(
        (-now, -before, names.get(group_id, "Without a group"))
        for group_id, now, before in _BY_GROUP.rows(connection, params)
    )
    result.groups = [
        Row(name, Decimal(-now) * CENT, Decimal(-before) * CENT) for now, before, name in by_group
    ]

    # Top products of the year, with last year's figure for the same products.
    current_products = _TOP_PRODUCTS.rows(connection, params)
    ids = [product_id for product_id, _ in current_products]
    previous_products: dict[int, int] = {}
    labels: dict[int, tuple[str, str]] = {}
    if ids:
        previous_products = dict(_PRODUCTS_BEFORE.rows(connection, {**params, "ids": ids}))
        labels = {pid: (code, name) for pid, code, name in _NAMES.rows(connection, {"ids": ids})}
    result.products = [
        (
            *labels.get(pid, (str(pid), "")),
            Decimal(cents) * CENT,
            Decimal(previous_products.get(pid, 0)) * CENT,
        )
        for pid, cents in current_products
    ]
    result.days_to_payment = average_days_to_payment(connection, client_id, start, end)
    return result


def _running_index(size: int, year: int, on: date) -> int:
    """Which period (of ``size`` months) of ``year`` runs on ``on``: before it they are done, after
    it not begun. 12 when the whole year is over, -1 when it has not begun."""
    if year != on.year:
        return 12 if year < on.year else -1
    return (on.month - 1) // size


def _rows(
    labels: tuple[str, ...],
    now: list[Decimal],
    before: list[Decimal],
    running: int,
    ytd_before: Decimal,
) -> list[Row]:
    rows = []
    for i, label in enumerate(labels):
        if i < running:
            rows.append(Row(label, now[i], before[i], "done", before[i]))
        elif i > running:
            rows.append(Row(label, now[i], before[i], "ahead", before[i]))
        else:
            # Last year's same days: last year up to today's date, less its periods before this.
            same_days = ytd_before - sum(before[:i], ZERO)
            rows.append(Row(label, now[i], same_days, "running", before[i]))
    return rows


def same_day_last_year(on: date) -> date:
    try:
        return on.replace(year=on.year - 1)
    except ValueError:  # 29 February
        return on.replace(year=on.year - 1, day=28)


def year_to_date(session: Session | Connection, client_id: int, on: date) -> Row:
    """This year from 1 January to ``on`` against the same days of last year: one query."""
    year = on.year
    until_before = same_day_last_year(on)
    now, before = _TO_DATE.one(
        session,
        {"client": client_id, "start": date(year - 1, 1, 1), "jan": date(year, 1, 1),
         "end": on, "before": until_before},
    )  # fmt: skip
    return Row("Year to date", from_cents(now), from_cents(before))


@dataclass
class Summary:
    """What the client file shows: this year so far against last year, and the last 12 months."""

    to_date: Row
    last_year: Decimal
    months: list[tuple[str, Decimal]]


def client_summary(session: Session, client_id: int, on: date | None = None) -> Summary:
    """One query: the months since 1 January last year, each with its part up to the same day
    of last year, from which the year-to-date comparison is added up."""
    on = on or local_today()
    cents: dict[tuple[int, int], int] = {}
    now = before = 0
    for year, month, total, early in _MONTHS_TO_DATE.rows(
        connection_of(session),
        {"client": client_id, "start": date(on.year - 1, 1, 1), "end": on,
         "before": same_day_last_year(on)},
    ):  # fmt: skip
        year, month = int(year), int(month)
        cents[year, month] = total
        if year == on.year:
            now += total
        else:
            before += early
    recent = periods_between("month", date(on.year - 1, on.month, 1), on)[-12:]
    return Summary(
        to_date=Row("Year to date", from_cents(now), from_cents(before)),
        last_year=from_cents(sum(v for (y, _m), v in cents.items() if y == on.year - 1)),
        months=[(p.label, from_cents(cents.get((p.year, p.index), 0))) for p in recent],
    )


_names_memo: tuple[list, dict[int, str]] = ([], {})


def _group_names(session: Session | Connection) -> dict[int, str]:
    """``{id: "Food › Dairy › Cheese"}`` for every group: one query (the tree is small). The
    names are built again only when the rows differ from those of the last call."""
    global _names_memo
    rows = _GROUP_NAMES.rows(session, {})
    if rows == _names_memo[0]:
        return _names_memo[1]
    groups = {gid: (name, path) for gid, name, path in rows}
    names = {}
    for gid, (_name, path) in groups.items():
        parts = [int(p) for p in path.strip("/").split("/") if p]
        names[gid] = " › ".join(groups[p][0] for p in parts if p in groups)
    _names_memo = (rows, names)
    return names


def _period_label(row: Row, analysis: Analysis) -> str:
    if row.state == "running":
        return f"{row.label} (to {analysis.to_date_until}; {analysis.year - 1}: the same days)"
    if row.state == "ahead":
        return f"{row.label} (not begun)"
    return row.label


def _fmt(value: Decimal | None) -> str:
    return "" if value is None else str(value)


def table_rows(analysis: Analysis) -> list[list[str]]:
    """Every figure of the analysis as rows of text: what the CSV export holds, and the order the
    XLSX export follows."""
    year, before = analysis.year, analysis.year - 1
    rows: list[list[str]] = [
        [f"Trade turnover {year} against {before}", analysis.currency, "", "", ""]
    ]
    for kind, title in PERIOD_TITLES.items():
        rows.append([])
        rows.append([title, str(year), str(before), "Change", "Change %"])
        rows += [
            [
                _period_label(r, analysis),
                str(r.current),
                str(r.previous),
                _fmt(r.change),
                _fmt(r.growth),
            ]
            for r in analysis.periods[kind]
        ]
    if analysis.to_date is not None:
        r = analysis.to_date
        rows.append([])
        rows.append([f"Year to date (until {analysis.to_date_until})", str(year), str(before),
                     "Change", "Change %"])  # fmt: skip
        rows.append([r.label, str(r.current), str(r.previous), str(r.change), _fmt(r.growth)])
    rows.append([])
    rows.append(["Product group", str(year), str(before), "Change", "Change %"])
    rows += [
        [r.label, str(r.current), str(r.previous), str(r.change), _fmt(r.growth)]
        for r in analysis.groups
    ]
    rows.append([])
    rows.append(["Top products", str(year), str(before), "Product code", ""])
    rows += [[name, str(now), str(prev), code, ""] for code, name, now, prev in analysis.products]
    rows.append([])
    rows.append(["Average days to payment", _fmt(analysis.days_to_payment), "", "", ""])
    return rows


def to_csv(analysis: Analysis) -> str:
    out = io.StringIO()
    csvfiles.writer(out).writerows(table_rows(analysis))
    return out.getvalue()


def to_xlsx(analysis: Analysis) -> bytes:
    """The same rows as the CSV, numbers as numbers (Decimal kept exact as text → number)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = f"Turnover {analysis.year}"
    bold = Font(bold=True)
    for row in table_rows(analysis):
        cells = []
        for value in row:
            try:
                cells.append(Decimal(value) if value else None)
            except ArithmeticError:
                cells.append(value)
        sheet.append(cells)
        csvfiles.mark_text(sheet[sheet.max_row])
        if sheet.max_row == 1 or (len(row) > 3 and row[3] in ("Change", "Product code")):
            for cell in sheet[sheet.max_row]:
                cell.font = bold
    for column in "BCDE":
        for cell in sheet[column]:
            if isinstance(cell.value, Decimal):
                cell.number_format = "#,##0.00"
    sheet.column_dimensions["A"].width = 40
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
