"""What running a report gives: its columns and rows (``Result``), the period-on-period change
columns, the filters that select the records behind a cell (a drill-down), and figures as JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from core.report_spec import Filter, Group, Spec, convert
from crm_reports.periods import bucket_label, bucket_range


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str  # text, integer, decimal, number, date, datetime, boolean, period
    role: str  # group, measure, total, field
    bucket: str | None = None
    pivot_key: Any = None
    measure: int | None = None


@dataclass
class Result:
    columns: list[Column]
    rows: list[list[Any]]
    keys: list[list[Any]]  # per row, the group keys behind it (ids of references), for drill-downs
    totals: list[Any] | None  # aligned with columns: None under the group headers
    pivot_keys: list[Any] = field(default_factory=list)
    truncated: bool = False
    record_ids: list[int] = field(default_factory=list)  # a list report: each row's record


def pivot_column_label(group: Group, value: Any) -> str:
    if group.bucket:
        return bucket_label(group.bucket, value)
    return "(empty)" if value is None else str(value)


def _change(current: Any, previous: Any) -> Decimal | None:
    """Percentage change, one decimal: None when there is nothing to compare with."""
    if current is None or not previous:
        return None
    ratio = (Decimal(str(current)) - Decimal(str(previous))) * 100 / Decimal(str(previous))
    return ratio.quantize(Decimal("0.1"))


def add_changes(columns, rows, totals, pivot_keys, pivot_display, width: int, measures: int):
    """Year-on-year (period on period) columns: the change of the first figure from each pivot
    column to the next, in per cent, for every row and the totals."""
    first = [width + i * measures for i in range(len(pivot_keys))]
    for k in range(1, len(pivot_keys)):
        before, now = pivot_display[pivot_keys[k - 1]], pivot_display[pivot_keys[k]]
        before, now = (b if b is not None else "(empty)" for b in (before, now))
        columns.append(Column(f"change|{pivot_keys[k]}", f"Change {before} → {now} (%)",
                              "decimal", "change", pivot_key=pivot_keys[k]))  # fmt: skip
        for line in rows:
            line.append(_change(line[first[k]], line[first[k - 1]]))
        totals.append(_change(totals[first[k]], totals[first[k - 1]]))


def drill_filters(spec: Spec, keys: list[Any], pivot_key: Any = None, with_pivot: bool = False):
    """The filters that select the records behind a cell: its row's keys (and its column's)."""
    pairs = list(zip(spec.row_groups, keys, strict=False))
    if with_pivot and spec.pivot is not None:
        pairs.append((spec.group_by[spec.pivot], pivot_key))
    out = []
    for group, key in pairs:
        if key is None:
            out.append(Filter(group.ref, "is_empty", None))
        elif group.bucket:
            out.append(Filter(group.ref, "between", list(bucket_range(group.bucket, str(key)))))
        else:
            out.append(Filter(group.ref, "=", convert(group.ref.kind, key, "keys")))
    return tuple(out)


def jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value
