"""Turnover periods: the last completed calendar month, quarter, half-year or year, or a rolling
window of the same length, seen from the date of a quote."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

PERIOD_MONTHS = {"month": 1, "quarter": 3, "half_year": 6, "year": 12}
PERIOD_ADJECTIVES = {
    "month": "monthly",
    "quarter": "quarterly",
    "half_year": "half-yearly",
    "year": "annual",
}
PERIOD_NOUNS = {"month": "month", "quarter": "quarter", "half_year": "half-year", "year": "year"}
BASES = ("last_completed", "rolling")


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    label: str


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months``, its day clamped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def calendar_period(day: date, period: str) -> Period:
    """The calendar period (month, quarter, half-year, year) that contains ``day``."""
    months = PERIOD_MONTHS[period]
    first_month = (day.month - 1) // months * months + 1
    start = date(day.year, first_month, 1)
    end = add_months(start, months) - timedelta(days=1)
    return Period(start, end, period_label(start, period))


def period_label(start: date, period: str) -> str:
    if period == "month":
        return f"{calendar.month_name[start.month]} {start.year}"
    if period == "quarter":
        return f"Q{(start.month - 1) // 3 + 1} {start.year}"
    if period == "half_year":
        return f"H{(start.month - 1) // 6 + 1} {start.year}"
    return str(start.year)


def basis_period(on: date, period: str, basis: str) -> Period:
    """The period whose turnover decides a discount on ``on``.

    ``last_completed``: the last calendar period that ended before ``on`` (on 26 Nov 2026: the
    month October 2026, the quarter Q3 2026, the half-year H1 2026, the year 2025).
    ``rolling``: the window of the period's length that ends the day before ``on`` (on 26 Nov 2026
    a rolling quarter is 26 Aug 2026 to 25 Nov 2026).
    """
    months = PERIOD_MONTHS[period]
    if basis == "rolling":
        end = on - timedelta(days=1)
        start = add_months(on, -months)
        noun = "month" if months == 1 else f"{months} months"
        return Period(start, end, f"the {noun} to {end:%d %b %Y}")
    current = calendar_period(on, period)
    return calendar_period(current.start - timedelta(days=1), period)


def next_period_label(on: date, period: str) -> str:
    """The label of the calendar period after the one containing ``on``."""
    current = calendar_period(on, period)
    return calendar_period(current.end + timedelta(days=1), period).label
