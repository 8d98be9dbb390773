"""A report spec (see ``core.reports``), checked against the model registry before it runs.

The core checks the definitions of ``crm_reports`` with it when the installed set is built; the
report generator (the ``crm_reports`` module) checks every spec with it before running one.

``parse(raw, fields)`` returns a ``Spec`` or raises ``SpecError`` (400) / ``SpecForbidden`` (403)
naming the part of the spec at fault (``group_by[1].bucket``). The reference of the format is in
``docs/plugins.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from core.report_fields import FieldRef, Fields, SpecError, Target

BUCKETS = ("day", "week", "month", "quarter", "half_year", "year")
#: Operators that need no value: the period relative to today.
RELATIVE = (
    "today", "yesterday", "this_week", "last_week", "this_month", "last_month", "this_quarter",
    "last_quarter", "this_half_year", "last_half_year", "this_year", "last_year",
    "this_and_last_year",
)  # fmt: skip
#: Operators taking a whole number of days.
RELATIVE_N = ("last_n_days", "next_n_days")
AGGREGATES = ("count", "count_distinct", "sum", "avg", "min", "max")
NUMERIC = ("integer", "decimal", "number")
ORDERED = (*NUMERIC, "date", "datetime", "text")
CHARTS = ("bar", "stacked_bar", "line", "pie", "heatmap")
MAX_LIMIT = 10_000_000

_ALL = ("=", "!=", "in", "is_empty", "is_not_empty")
OPERATORS: dict[str, tuple[str, ...]] = {
    "integer": (*_ALL, "<", "<=", ">", ">=", "between"),
    "decimal": (*_ALL, "<", "<=", ">", ">=", "between"),
    "number": (*_ALL, "<", "<=", ">", ">=", "between"),
    "date": (*_ALL, "<", "<=", ">", ">=", "between", *RELATIVE, *RELATIVE_N),
    "datetime": ("is_empty", "is_not_empty", "<", "<=", ">", ">=", "between", "=",
                 *RELATIVE, *RELATIVE_N),
    "text": (*_ALL, "contains", "<", "<=", ">", ">="),
    "boolean": ("=", "!=", "is_empty", "is_not_empty"),
    "reference": _ALL,
}  # fmt: skip
NO_VALUE = ("is_empty", "is_not_empty", *RELATIVE)


@dataclass(frozen=True)
class Filter:
    ref: FieldRef
    op: str
    value: Any


@dataclass(frozen=True)
class Group:
    ref: FieldRef
    bucket: str | None

    @property
    def key(self) -> str:
        return f"{self.ref.path}:{self.bucket}" if self.bucket else self.ref.path

    @property
    def label(self) -> str:
        return (
            f"{self.ref.label} ({self.bucket.replace('_', ' ')})" if self.bucket else self.ref.label
        )


@dataclass(frozen=True)
class Measure:
    ref: FieldRef
    agg: str

    @property
    def key(self) -> str:
        return f"{self.ref.path}:{self.agg}"

    @property
    def label(self) -> str:
        if self.agg == "count" and self.ref.column == "id" and not self.ref.steps:
            return "Count"
        names = {"count_distinct": "distinct", "avg": "average"}
        return f"{self.ref.label} ({names.get(self.agg, self.agg)})"

    @property
    def kind(self) -> str:
        if self.agg in ("count", "count_distinct"):
            return "integer"
        return self.ref.kind


@dataclass(frozen=True)
class Spec:
    root: Target
    raw: dict[str, Any]
    filters: tuple[Filter, ...] = ()
    group_by: tuple[Group, ...] = ()
    measures: tuple[Measure, ...] = ()
    columns: tuple[FieldRef, ...] = ()
    pivot: int | None = None  # index into group_by
    order_by: tuple[tuple[str, bool], ...] = ()  # (group or measure key, descending)
    limit: int | None = None
    chart: dict[str, Any] | None = None
    filter_fields: tuple[FieldRef, ...] = field(default=())
    compare: str | None = None  # "previous": each pivot column's change from the one before

    @property
    def is_list(self) -> bool:
        return not self.group_by and not self.measures

    @property
    def row_groups(self) -> tuple[Group, ...]:
        return tuple(g for i, g in enumerate(self.group_by) if i != self.pivot)


def _list(raw: dict, name: str) -> list:
    value = raw.get(name) or []
    if not isinstance(value, list):
        raise SpecError(name, "must be a list")
    return value


def _item(value: Any, where: str) -> dict:
    if isinstance(value, str):
        return {"field": value}
    if not isinstance(value, dict):
        raise SpecError(where, "must be an object with a field")
    return value


def convert(kind: str, value: Any, where: str) -> Any:
    """A filter value as the field's type; a 400 naming ``where`` when it is not one."""
    try:
        if kind in ("integer", "reference"):
            if isinstance(value, bool) or not isinstance(value, int | str):
                raise ValueError
            return int(value)
        if kind == "decimal":
            if isinstance(value, bool | float):
                return Decimal(str(value))
            return Decimal(str(value).strip())
        if kind == "number":
            return float(value)
        if kind == "boolean":
            if isinstance(value, bool):
                return value
            return {"true": True, "1": True, "false": False, "0": False}[str(value).lower()]
        if kind == "date":
            return date.fromisoformat(str(value))
        if kind == "datetime":
            text = str(value)
            return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
    except (ValueError, KeyError, TypeError, InvalidOperation):
        expected = {
            "integer": "a whole number", "reference": "a record id (whole number)",
            "decimal": "a number", "number": "a number", "boolean": "true or false",
            "date": "a date (YYYY-MM-DD)", "datetime": "a date or date-time (ISO 8601)",
        }[kind]  # fmt: skip
        raise SpecError(where, f"{value!r} is not {expected}") from None
    return str(value)


def _filter(raw: Any, where: str, fields: Fields, root: Target) -> Filter:
    item = _item(raw, where)
    ref = fields.resolve(item.get("field"), f"{where}.field", root)
    op = item.get("op", "=")
    allowed = OPERATORS[ref.kind]
    if op not in allowed:
        raise SpecError(
            f"{where}.op",
            f"{op!r} does not apply to {ref.label} ({ref.kind}); use {', '.join(allowed)}",
        )
    value = item.get("value")
    if op in NO_VALUE:
        return Filter(ref, op, None)
    if op in RELATIVE_N:
        days = convert("integer", value, f"{where}.value")
        if not 1 <= days <= 3660:
            raise SpecError(f"{where}.value", "a number of days between 1 and 3660")
        return Filter(ref, op, days)
    if op == "between":
        if not isinstance(value, list) or len(value) != 2:
            raise SpecError(f"{where}.value", "between takes a list of two values [low, high]")
        return Filter(
            ref, op, [convert(ref.kind, v, f"{where}.value[{i}]") for i, v in enumerate(value)]
        )
    if op == "in":
        if not isinstance(value, list) or not value:
            raise SpecError(f"{where}.value", "in takes a non-empty list of values")
        return Filter(
            ref, op, [convert(ref.kind, v, f"{where}.value[{i}]") for i, v in enumerate(value)]
        )
    if op == "contains":
        if not isinstance(value, str) or not value:
            raise SpecError(f"{where}.value", "contains takes some text")
        return Filter(ref, op, value)
    if value is None or value == "":
        raise SpecError(f"{where}.value", "a value is required")
    return Filter(ref, op, convert(ref.kind, value, f"{where}.value"))


def parse(raw: Any, fields: Fields) -> Spec:
    if not isinstance(raw, dict):
        raise SpecError("spec", "a report spec is a JSON object")
    root = fields.root(raw.get("model"))
    filters = tuple(
        _filter(f, f"filters[{i}]", fields, root) for i, f in enumerate(_list(raw, "filters"))
    )
    groups: list[Group] = []
    for i, item in enumerate(_list(raw, "group_by")):
        item = _item(item, f"group_by[{i}]")
        ref = fields.resolve(item.get("field"), f"group_by[{i}].field", root)
        bucket = item.get("bucket") or None
        if bucket is not None:
            if ref.kind not in ("date", "datetime"):
                raise SpecError(f"group_by[{i}].bucket", f"{ref.label} is not a date: no bucket")
            if bucket not in BUCKETS:
                raise SpecError(f"group_by[{i}].bucket", f"one of {', '.join(BUCKETS)}")
        group = Group(ref, bucket)
        if any(g.key == group.key for g in groups):
            raise SpecError(f"group_by[{i}]", f"{group.label} is grouped twice")
        groups.append(group)
    measures: list[Measure] = []
    for i, item in enumerate(_list(raw, "measures")):
        item = _item(item, f"measures[{i}]")
        ref = fields.resolve(item.get("field", "id"), f"measures[{i}].field", root)
        agg = item.get("agg", "sum")
        if agg not in AGGREGATES:
            raise SpecError(f"measures[{i}].agg", f"one of {', '.join(AGGREGATES)}")
        if agg in ("sum", "avg") and ref.kind not in NUMERIC:
            raise SpecError(f"measures[{i}].agg", f"{agg} needs a number; {ref.label} is not one")
        if agg in ("min", "max") and ref.kind not in ORDERED:
            raise SpecError(f"measures[{i}].agg", f"{agg} does not apply to {ref.label}")
        measures.append(Measure(ref, agg))
    if groups and not measures:
        measures.append(Measure(fields.resolve("id", "measures", root), "count"))
    columns = tuple(
        fields.resolve(_item(c, f"columns[{i}]").get("field"), f"columns[{i}]", root)
        for i, c in enumerate(_list(raw, "columns"))
    )
    if not groups and not measures and not columns:
        columns = tuple(
            fields.resolve(name, "columns", root) for name in root.column_names() if name != "id"
        )[:8]
    pivot = None
    if raw.get("pivot"):
        keys = [g.key for g in groups]
        paths = [g.ref.path for g in groups]
        if raw["pivot"] in keys:
            pivot = keys.index(raw["pivot"])
        elif raw["pivot"] in paths:
            pivot = paths.index(raw["pivot"])
        else:
            raise SpecError("pivot", f"{raw['pivot']!r} is not one of the group-bys")
        if len(groups) < 2:
            raise SpecError("pivot", "a pivot needs a second group-by for the rows")
    known = {g.key for g in groups} | {g.ref.path for g in groups} | {m.key for m in measures}
    known |= {c.path for c in columns}
    order_by = []
    for i, item in enumerate(_list(raw, "order_by")):
        item = _item(item, f"order_by[{i}]")
        if item.get("field") not in known:
            raise SpecError(f"order_by[{i}].field", f"{item.get('field')!r} is not in the report")
        if item.get("dir", "asc") not in ("asc", "desc"):
            raise SpecError(f"order_by[{i}].dir", "asc or desc")
        order_by.append((item["field"], item.get("dir") == "desc"))
    limit = raw.get("limit")
    if limit is not None and (
        isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT
    ):
        raise SpecError("limit", f"a whole number between 1 and {MAX_LIMIT:,}")
    chart = raw.get("chart") or None
    if chart is not None:
        if not isinstance(chart, dict) or chart.get("type") not in CHARTS:
            raise SpecError("chart.type", f"one of {', '.join(CHARTS)}")
        for part in ("x", "series"):
            if chart.get(part) and chart[part] not in {g.key for g in groups} | {
                g.ref.path for g in groups
            }:
                raise SpecError(f"chart.{part}", f"{chart[part]!r} is not one of the group-bys")
    compare = raw.get("compare") or None
    if compare is not None and (compare != "previous" or pivot is None):
        raise SpecError("compare", '"previous" (with a pivot), or leave it out')
    filter_fields = tuple(
        fields.resolve(f, f"filter_fields[{i}]", root)
        for i, f in enumerate(_list(raw, "filter_fields"))
    )
    return Spec(
        root=root,
        raw=raw,
        filters=filters,
        group_by=tuple(groups),
        measures=tuple(measures),
        columns=columns,
        pivot=pivot,
        order_by=tuple(order_by),
        limit=limit,
        chart=chart,
        filter_fields=filter_fields,
        compare=compare,
    )
