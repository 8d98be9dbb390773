"""The builder's form and a spec, each made from the other.

The form is plain GET fields, so a report on screen is a link that can be bookmarked: ``model``;
``row0``…``row2`` and ``col`` (a group-by: ``path`` or ``path:bucket``); ``measure0``…``measure2``
(``path:agg``); ``f0_field``, ``f0_op``, ``f0_value`` … ``f3_*`` (a value list comma-separated for
``in`` and ``between``); ``chart``; and ``extra``, the parts of a spec the form has no fields for
(list columns, order, limit), as JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from core.report_fields import FieldRef, Fields, SpecError, Target
from core.report_spec import BUCKETS, CHARTS, NUMERIC, OPERATORS

ROWS, MEASURES, FILTERS = 3, 3, 4
EXTRA_KEYS = ("columns", "order_by", "limit", "filter_fields", "title", "compare")
CHART_LABELS = {"bar": "Bars", "stacked_bar": "Stacked bars", "line": "Lines", "pie": "Pie",
                "heatmap": "Heat map (table)"}  # fmt: skip
OPERATOR_LABELS = {
    "=": "is", "!=": "is not", "in": "is one of", "is_empty": "is empty",
    "is_not_empty": "is not empty", "<": "before / less than", "<=": "up to",
    ">": "after / more than",
    ">=": "from", "between": "between", "contains": "contains", "today": "today",
    "yesterday": "yesterday", "this_week": "this week", "last_week": "last week",
    "this_month": "this month", "last_month": "last month", "this_quarter": "this quarter",
    "last_quarter": "last quarter", "this_half_year": "this half-year",
    "last_half_year": "last half-year", "this_year": "this year", "last_year": "last year",
    "this_and_last_year": "this and last year",
    "last_n_days": "in the last N days", "next_n_days": "in the next N days",
}  # fmt: skip


@dataclass(frozen=True)
class Option:
    value: str
    label: str


def group_options(choices: list[FieldRef]) -> list[Option]:
    out = []
    for ref in choices:
        if ref.kind in ("date", "datetime"):
            out += [Option(f"{ref.path}:{b}", f"{ref.label} (by {b.replace('_', ' ')})")
                    for b in BUCKETS]  # fmt: skip
        elif ref.kind not in ("decimal", "number") and ref.column != "id":
            out.append(Option(ref.path, ref.label))
    return out


def measure_options(choices: list[FieldRef]) -> list[Option]:
    out = [Option("id:count", "Count")]
    for ref in choices:
        if ref.kind in NUMERIC and ref.column != "id" and not ref.column.endswith("_id"):
            out += [Option(f"{ref.path}:{agg}", f"{ref.label} ({name})")
                    for agg, name in (("sum", "sum"), ("avg", "average"), ("min", "min"),
                                      ("max", "max"))]  # fmt: skip
        elif ref.kind == "reference" and not ref.steps:
            out.append(Option(f"{ref.path}:count_distinct", f"{ref.label} (distinct)"))
    return out


def filter_options(choices: list[FieldRef]) -> list[Option]:
    return [Option(ref.path, ref.label) for ref in choices]


def operators_for(kind: str) -> list[Option]:
    return [Option(op, OPERATOR_LABELS.get(op, op)) for op in OPERATORS.get(kind, ())]


def all_operators() -> list[Option]:
    return [Option(op, label) for op, label in OPERATOR_LABELS.items()]


def _group(value: str) -> dict[str, Any]:
    path, _, bucket = value.partition(":")
    return {"field": path, "bucket": bucket} if bucket else {"field": path}


def _values(op: str, text: str) -> Any:
    if op in ("in", "between"):
        return [part.strip() for part in text.split(",") if part.strip()]
    return text.strip()


def spec_from_form(args: Any) -> dict[str, Any]:
    """The spec the builder's fields describe (checked later, like any spec)."""
    spec: dict[str, Any] = {"model": args.get("model", "")}
    rows = [args.get(f"row{i}", "") for i in range(ROWS)]
    column = args.get("col", "")
    if args.get("swap") and column and rows[0]:
        rows[0], column = column, rows[0]
    groups = [_group(v) for v in rows if v]
    if column:
        groups.append(_group(column))
        spec["pivot"] = column
    spec["group_by"] = groups
    measures = []
    for i in range(MEASURES):
        value = args.get(f"measure{i}", "")
        if value:
            path, _, agg = value.rpartition(":")
            measures.append({"field": path, "agg": agg})
    spec["measures"] = measures
    filters = []
    for i in range(FILTERS):
        field, op = args.get(f"f{i}_field", ""), args.get(f"f{i}_op", "")
        if field and op:
            item: dict[str, Any] = {"field": field, "op": op}
            text = args.get(f"f{i}_value", "")
            if text.strip():
                item["value"] = _values(op, text)
            filters.append(item)
    spec["filters"] = filters
    if args.get("chart") in CHARTS:
        spec["chart"] = {"type": args["chart"]}
    try:
        extra = json.loads(args.get("extra") or "{}")
    except ValueError:
        extra = {}
    if isinstance(extra, dict):
        spec.update({k: v for k, v in extra.items() if k in EXTRA_KEYS})
    return spec


def form_from_spec(spec: dict[str, Any]) -> dict[str, str]:
    """The builder's field values for ``spec`` (parts without a field go to ``extra``)."""
    form: dict[str, str] = {"model": str(spec.get("model", ""))}
    groups = [g if isinstance(g, dict) else {"field": g} for g in spec.get("group_by") or []]
    pivot = spec.get("pivot")

    def value(group: dict) -> str:
        return f"{group['field']}:{group['bucket']}" if group.get("bucket") else str(group["field"])

    rows = []
    for group in groups:
        if pivot and pivot in (group.get("field"), value(group)) and "col" not in form:
            form["col"] = value(group)
        else:
            rows.append(value(group))
    for i, row in enumerate(rows[:ROWS]):
        form[f"row{i}"] = row
    for i, m in enumerate((spec.get("measures") or [])[:MEASURES]):
        form[f"measure{i}"] = f"{m.get('field', 'id')}:{m.get('agg', 'sum')}"
    for i, f in enumerate((spec.get("filters") or [])[:FILTERS]):
        form[f"f{i}_field"], form[f"f{i}_op"] = str(f.get("field", "")), str(f.get("op", "="))
        raw = f.get("value")
        form[f"f{i}_value"] = ", ".join(map(str, raw)) if isinstance(raw, list) else (
            "" if raw is None else str(raw))  # fmt: skip
    chart = spec.get("chart") or {}
    form["chart"] = chart.get("type", "") if isinstance(chart, dict) else ""
    extra = {k: spec[k] for k in EXTRA_KEYS if spec.get(k)}
    form["extra"] = json.dumps(extra) if extra else ""
    return form


def pickers(fields: Fields, root: Target | None) -> dict[str, list[Option]]:
    if root is None:
        return {"groups": [], "measures": [], "filters": []}
    choices = fields.choices(root)
    return {
        "groups": group_options(choices),
        "measures": measure_options(choices),
        "filters": filter_options(choices),
        "kinds": {ref.path: ref.kind for ref in choices},
        "refs": {ref.path: ref.ref.name for ref in choices if ref.ref is not None},
    }


def record_pickers(fields: Fields, root: Target | None, form: dict[str, str], session: Any):
    """For each filter on a reference with ``=`` or ``!=``: (model, current id, its label), so the
    value is a record picker (interface of the core's pickers: ``<select data-picker=model>``
    holding only the current record). The labels are read through ``session``: record rules
    apply, a record the user may not see shows as its id."""
    from sqlalchemy import select

    out: dict[int, tuple[str, str, str]] = {}
    if root is None:
        return out
    for i in range(FILTERS):
        path, op = form.get(f"f{i}_field", ""), form.get(f"f{i}_op", "")
        if not path or op not in ("=", "!="):
            continue
        try:
            ref = fields.resolve(path, "filter", root)
        except SpecError:  # a bad filter is reported when the spec runs
            continue
        if ref.ref is None or ref.ref.info is None:
            continue
        value = form.get(f"f{i}_value", "").strip()
        label = value
        if value.isdigit():
            model = ref.ref.model
            column = getattr(model, fields.label_column(ref.ref))
            found = session.scalar(select(column).where(model.id == int(value)))
            label = str(found) if found is not None else value
        out[i] = (ref.ref.name, value, label)
    return out
