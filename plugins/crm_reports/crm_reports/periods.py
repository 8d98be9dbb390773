"""Date buckets and relative periods, in the installation's time zone (``CRM_TIMEZONE``).

A bucket's key is a sortable string: ``2026-03-02`` (a day, or the Monday of a week), ``2026-03``,
``2026-Q1``, ``2026-H1``, ``2026``. Date columns are bucketed as they are (a date is already local);
datetime columns are stored in UTC and converted to the local zone first: PostgreSQL with
``AT TIME ZONE``, SQLite through a function registered on its connection (SQLite knows no zones).
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, String, cast, func, literal
from sqlalchemy.orm import Session

SQLITE_LOCAL = "crm_reports_local"


def local_datetime_sqlite(zone: str):
    converter = ZoneInfo(zone)

    def convert(value: str | None) -> str | None:
        if value is None:
            return None
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(converter).strftime("%Y-%m-%d %H:%M:%S")

    return convert


def prepare_session(session: Session, zone: str) -> None:
    """Give SQLite the time-zone function (its connection is the session's, for this run)."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        raw = connection.connection.driver_connection
        raw.create_function(SQLITE_LOCAL, 1, local_datetime_sqlite(zone), deterministic=True)


def local_value(column: Any, kind: str, dialect: str, zone: str) -> Any:
    """The column as a local date/time expression."""
    if kind != "datetime":
        return column
    if dialect == "sqlite":
        return getattr(func, SQLITE_LOCAL)(column)
    return func.timezone(zone, column)


def bucket_expression(value: Any, bucket: str, dialect: str) -> Any:
    """The SQL of a bucket's key, from a local date or datetime expression."""
    if dialect == "sqlite":
        year = func.strftime("%Y", value)
        month = cast(func.strftime("%m", value), Integer)
        if bucket == "day":
            return func.date(value)
        if bucket == "week":
            return func.date(value, "weekday 0", "-6 days")
        if bucket == "month":
            return func.strftime("%Y-%m", value)
        if bucket == "quarter":
            return year + literal("-Q") + cast((month + 2) // 3, String)
        if bucket == "half_year":
            return year + literal("-H") + cast((month + 5) // 6, String)
        return year
    if bucket == "day":
        return func.to_char(value, "YYYY-MM-DD")
    if bucket == "week":
        return func.to_char(func.date_trunc("week", value), "YYYY-MM-DD")
    if bucket == "month":
        return func.to_char(value, "YYYY-MM")
    if bucket == "quarter":
        return func.to_char(value, 'YYYY-"Q"Q')
    if bucket == "half_year":
        month = cast(func.extract("month", value), Integer)
        half = (month + 5) // 6
        return func.to_char(value, "YYYY") + literal("-H") + cast(half, String)
    return func.to_char(value, "YYYY")


def bucket_range(bucket: str, key: str) -> tuple[date, date]:
    """The first and last day of a bucket from its key (for a drill-down)."""
    if bucket in ("day", "week"):
        start = date.fromisoformat(key)
        return start, start + timedelta(days=0 if bucket == "day" else 6)
    year = int(key[:4])
    if bucket == "month":
        month = int(key[5:7])
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    if bucket == "quarter":
        quarter = int(key[-1])
        return _months(year, 3 * quarter - 2, 3)
    if bucket == "half_year":
        half = int(key[-1])
        return _months(year, 6 * half - 5, 6)
    return date(year, 1, 1), date(year, 12, 31)


def _months(year: int, first: int, count: int) -> tuple[date, date]:
    last = first + count - 1
    return date(year, first, 1), date(year, last, calendar.monthrange(year, last)[1])


def bucket_label(bucket: str | None, key: Any) -> str:
    """How a bucket's key is shown: ``Q1 2026``, ``Mar 2026``, ``H2 2026``, ``week of …``."""
    if key is None:
        return "(empty)"
    text = str(key)
    if bucket == "quarter" and "-Q" in text:
        return f"Q{text[-1]} {text[:4]}"
    if bucket == "half_year" and "-H" in text:
        return f"H{text[-1]} {text[:4]}"
    if bucket == "month" and len(text) == 7:
        return f"{calendar.month_abbr[int(text[5:7])]} {text[:4]}"
    if bucket == "week":
        return f"week of {text}"
    return text


def relative_range(op: str, today: date, days: int | None = None) -> tuple[date, date]:
    """The first and last day of a relative period."""
    if op == "today":
        return today, today
    if op == "yesterday":
        day = today - timedelta(days=1)
        return day, day
    if op == "last_n_days":
        return today - timedelta(days=(days or 1) - 1), today
    if op == "next_n_days":
        return today, today + timedelta(days=(days or 1) - 1)
    if op in ("this_week", "last_week"):
        monday = today - timedelta(days=today.weekday())
        if op == "last_week":
            monday -= timedelta(days=7)
        return monday, monday + timedelta(days=6)
    if op == "this_and_last_year":
        return date(today.year - 1, 1, 1), date(today.year, 12, 31)
    unit = op.split("_", 1)[1]
    size = {"month": 1, "quarter": 3, "half_year": 6, "year": 12}[unit]
    first = (today.month - 1) // size * size + 1
    year = today.year
    if op.startswith("last_"):
        first -= size
        if first < 1:
            first += 12
            year -= 1
    return _months(year, first, size)


def day_bounds_utc(start: date, end: date, zone: str) -> tuple[datetime, datetime]:
    """[start 00:00, end + 1 day 00:00) local, as UTC instants: a datetime column's range."""
    tz = ZoneInfo(zone)
    low = datetime.combine(start, time(), tz).astimezone(UTC)
    high = datetime.combine(end + timedelta(days=1), time(), tz).astimezone(UTC)
    return low, high
