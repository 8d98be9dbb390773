"""Runs a spec: one ORM SELECT (joins, WHERE, GROUP BY) through the request's session.

Through the session, the core's record rules reach every entity of the statement, the joined ones
too (``with_loader_criteria`` puts them into each join's ON clause, and into subqueries): a
representative's report adds up only what she may see. Each model is joined as itself; a second
path to a model already in the statement goes through a subquery of it, never an alias (the ORM
does not adapt a rule's criteria, written against the class, to an alias).
A relation that is never empty is an inner join, so a row whose parent the user may not see drops
out; a relation that may be empty is an outer join, so rows without one stay (shown "(empty)").

Totals of ``sum``, ``count``, ``min`` and ``max`` are combined from the cells; ``avg`` and
``count_distinct`` cannot be, and a truncated result has not got every cell: then one more GROUP BY
per kind of total is run (at most three).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, Select, and_, distinct, func, inspect, or_, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from core.record_rules import restricted
from core.report_fields import FieldRef
from core.report_spec import Filter, Group, Measure, Spec, convert
from crm_reports.cache import cached
from crm_reports.periods import (
    bucket_expression,
    bucket_label,
    bucket_range,
    day_bounds_utc,
    local_value,
    prepare_session,
    relative_range,
)

DISPLAY_LIMIT = 1000
COMBINABLE = ("sum", "count", "min", "max")


@dataclass(frozen=True)
class Context:
    dialect: str
    zone: str
    today: date


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


class Builder:
    """Entities and joins of one statement: an alias per relation path, joined once."""

    def __init__(self, spec: Spec, ctx: Context) -> None:
        self.spec, self.ctx = spec, ctx
        self.entities: dict[tuple[str, ...], Any] = {(): spec.root.model}
        self.outer: set[tuple[str, ...]] = set()
        self.joins: list[tuple[Any, Any, bool]] = []
        self.models: set[type] = {spec.root.model}

    def _join(self, key: tuple[str, ...], parent: Any, fk: str, model: type, nullable: bool):
        if key not in self.entities:
            if model in self.models:
                # A second path to the same model (or a model joined to itself): not an alias,
                # whose record-rule criteria the ORM would not adapt, but a subquery of the
                # model, inside which the criteria apply to the model itself.
                entity = select(model).subquery().c
                target = entity
            else:
                entity = target = model
                self.models.add(model)
            outer = nullable or key[:-1] in self.outer
            if outer:
                self.outer.add(key)
            self.joins.append((_from(target), getattr(parent, fk) == entity.id, outer))
            self.entities[key] = entity
        return self.entities[key]

    def entity(self, ref: FieldRef) -> Any:
        current = self.entities[()]
        for i, step in enumerate(ref.steps):
            key = tuple(s.name for s in ref.steps[: i + 1])
            current = self._join(key, current, step.fk_column, step.target.model, step.nullable)
        return current

    def column(self, ref: FieldRef) -> Any:
        return getattr(self.entity(ref), ref.column)

    def label_of(self, ref: FieldRef, label_column: str) -> Any:
        """The label column of the record a reference column points to (joined, outer)."""
        owner = self.entity(ref)
        key = (*ref.prefix, "→" + ref.column)
        assert ref.ref is not None
        alias = self._join(key, owner, ref.column, ref.ref.model, True)
        return getattr(alias, label_column)

    def value(self, ref: FieldRef) -> Any:
        return local_value(self.column(ref), ref.kind, self.ctx.dialect, self.ctx.zone)

    def group(self, group: Group, label_column: str | None) -> tuple[Any, Any | None]:
        """(key expression, label expression or None) of a group-by."""
        if group.bucket:
            return bucket_expression(self.value(group.ref), group.bucket, self.ctx.dialect), None
        column = self.column(group.ref)
        if group.ref.ref is not None and label_column:
            return column, self.label_of(group.ref, label_column)
        return column, None

    def condition(self, item: Filter) -> Any:
        ref, op, value = item.ref, item.op, item.value
        column = self.column(ref)
        if ref.kind == "datetime":
            return self._datetime_condition(column, op, value)
        if op in ("today", "yesterday") or op.startswith(("this_", "last_", "next_")):
            low, high = relative_range(op, self.ctx.today, value)
            return column.between(low, high)
        return _plain_condition(column, ref.kind, op, value)

    def _datetime_condition(self, column: Any, op: str, value: Any) -> Any:
        zone = self.ctx.zone
        if op == "is_empty":
            return column.is_(None)
        if op == "is_not_empty":
            return column.is_not(None)
        if op == "between":
            low, high = value
            low_at = day_bounds_utc(low, low, zone)[0] if type(low) is date else low
            if type(high) is date:
                return and_(column >= low_at, column < day_bounds_utc(high, high, zone)[1])
            return column.between(low_at, high)
        if op in ("=", "<", "<=", ">", ">=") and type(value) is date:
            start, end = day_bounds_utc(value, value, zone)
            return {
                "=": and_(column >= start, column < end),
                "<": column < start,
                "<=": column < end,
                ">": column >= end,
                ">=": column >= start,
            }[op]
        if op in ("=", "<", "<=", ">", ">="):
            return _plain_condition(column, "datetime", op, value)
        low, high = relative_range(op, self.ctx.today, value)
        start, end = day_bounds_utc(low, high, zone)
        return and_(column >= start, column < end)

    def apply(self, stmt: Select, extra: tuple[Filter, ...] = ()) -> Select:
        conditions = [self.condition(f) for f in (*self.spec.filters, *extra)]
        stmt = stmt.select_from(self.entities[()])
        for alias, onclause, outer in self.joins:
            stmt = stmt.join(alias, onclause, isouter=outer)
        return stmt.where(*conditions) if conditions else stmt


def _from(entity: Any) -> Any:
    """What a join names: the model, or the subquery behind a subquery's columns."""
    if isinstance(entity, type):
        return entity
    return next(iter(entity)).table


def _plain_condition(column: Any, kind: str, op: str, value: Any) -> Any:
    if op == "is_empty":
        return or_(column.is_(None), column == "") if kind == "text" else column.is_(None)
    if op == "is_not_empty":
        return and_(column.is_not(None), column != "") if kind == "text" else column.is_not(None)
    if op == "=":
        return column == value
    if op == "!=":
        return or_(column != value, column.is_(None))
    if op == "in":
        return column.in_(value)
    if op == "contains":
        escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return column.ilike(f"%{escaped}%", escape="\\")
    if op == "between":
        return column.between(value[0], value[1])
    return {"<": column < value, "<=": column <= value, ">": column > value, ">=": column >= value}[
        op
    ]


def _aggregate(measure: Measure, column: Any) -> Any:
    if measure.agg == "count":
        return func.count(column)
    if measure.agg == "count_distinct":
        return func.count(distinct(column))
    return getattr(func, measure.agg)(column)


def _normal(kind: str, value: Any) -> Any:
    """A figure as its type: money stays Decimal (SQLite hands sums over as floats)."""
    if value is None:
        return None
    if kind == "decimal" and not isinstance(value, Decimal):
        return (
            Decimal(str(round(value, 6))).normalize()
            if isinstance(value, float)
            else Decimal(value)
        )
    if kind == "decimal":
        return value
    if kind == "integer" and isinstance(value, Decimal | float):
        return int(value)
    return value


def _money(value: Any, scale: int | None) -> Any:
    if isinstance(value, Decimal) and scale is not None:
        return value.quantize(Decimal(1).scaleb(-scale))
    return value


class Runner:
    """Compiles and runs ``spec`` through ``session`` (the request's: record rules apply)."""

    def __init__(self, spec: Spec, session: Session, ctx: Context, label_columns: dict[str, str]):
        self.spec, self.session, self.ctx = spec, session, ctx
        self.label_columns = label_columns  # target name -> its label column
        prepare_session(session, ctx.zone)

    def _label_column(self, group: Group) -> str | None:
        return self.label_columns.get(group.ref.ref.name) if group.ref.ref else None

    def _scale(self, measure: Measure) -> int | None:
        column = getattr(measure.ref.target.model, measure.ref.column)
        return getattr(column.type, "scale", None) if measure.kind == "decimal" else None

    def tables(self) -> set[Any]:
        """The tables the grouped statement reads (each model joined, the root's included)."""
        self.grouped_statement(self.spec.group_by)
        return {inspect(model).local_table for model in self._models}

    def grouped_statement(self, groups: tuple[Group, ...], extra: tuple[Filter, ...] = ()):
        builder = Builder(self.spec, self.ctx)
        self._models = builder.models
        selected, group_exprs, layout = [], [], []
        for i, group in enumerate(groups):
            key, label = builder.group(group, self._label_column(group))
            selected.append(key.label(f"g{i}"))
            group_exprs.append(key)
            if label is not None:
                selected.append(label.label(f"g{i}_label"))
                group_exprs.append(label)
            layout.append(label is not None)
        measures = [
            _aggregate(m, builder.column(m.ref)).label(f"m{j}")
            for j, m in enumerate(self.spec.measures)
        ]
        stmt = builder.apply(select(*selected, *measures), extra)
        if group_exprs:
            stmt = stmt.group_by(*group_exprs)
        order = []
        for key, descending in self.spec.order_by:
            for j, m in enumerate(self.spec.measures):
                if key == m.key:
                    order.append(measures[j].desc() if descending else measures[j].asc())
            for i, g in enumerate(groups):
                if key in (g.key, g.ref.path) and self.spec.pivot is None:
                    expr = selected[sum(1 + layout[k] for k in range(i)) + layout[i]]
                    order.append(expr.desc() if descending else expr.asc())
        for i, _g in enumerate(groups):
            position = sum(1 + layout[k] for k in range(i))
            order.append(selected[position + layout[i]])
        return stmt.order_by(*order), layout

    def _rows(self, groups: tuple[Group, ...], limit: int | None):
        stmt, layout = self.grouped_statement(groups)
        if limit is not None:
            stmt = stmt.limit(limit + 1)
        rows = self.session.execute(stmt).all()
        truncated = limit is not None and len(rows) > limit
        out = []
        for row in rows[:limit] if limit is not None else rows:
            values, position = [], 0
            for has_label in layout:
                key = row[position]
                values.append((key, row[position + 1] if has_label else key))
                position += 2 if has_label else 1
            figures = [
                _money(_normal(m.kind, row[position + j]), self._scale(m))
                for j, m in enumerate(self.spec.measures)
            ]
            out.append((values, figures))
        return out, truncated

    def run(self, limit: int | None = DISPLAY_LIMIT) -> Result:
        """The result: a grouped one from the cache while the tables behind it are unchanged
        (``crm_reports.cache``)."""
        if self.spec.is_list:
            return self.run_list(limit)
        limit = self.spec.limit if self.spec.limit is not None else limit
        return cached(self.session, self, self.tables(), limit, lambda: self.run_grouped(limit))

    def run_grouped(self, limit: int | None) -> Result:
        """The grouped result computed by the database, no cache asked."""
        rows, truncated = self._rows(self.spec.group_by, limit)
        if self.spec.pivot is None:
            return self._flat(rows, truncated)
        return self._pivoted(rows, truncated)

    def _total(self, groups: tuple[Group, ...]) -> dict[tuple, list[Any]]:
        rows, _ = self._rows(groups, None)
        return {tuple(k for k, _ in values): figures for values, figures in rows}

    def _combine(self, cells: list[list[Any]]) -> list[Any]:
        out = []
        for j, m in enumerate(self.spec.measures):
            values = [c[j] for c in cells if c is not None and c[j] is not None]
            if not values:
                out.append(0 if m.agg in ("count", "count_distinct") else None)
            elif m.agg in ("sum", "count"):
                out.append(sum(values))
            elif m.agg == "min":
                out.append(min(values))
            elif m.agg == "max":
                out.append(max(values))
            else:
                out.append(None)
        return out

    def _exact(self) -> bool:
        return all(m.agg in COMBINABLE for m in self.spec.measures)

    def _headers(self, groups: tuple[Group, ...]) -> list[Column]:
        return [
            Column(g.key, g.label, "period" if g.bucket else g.ref.kind, "group", bucket=g.bucket)
            for g in groups
        ]

    def _flat(self, rows, truncated: bool) -> Result:
        columns = self._headers(self.spec.group_by) + [
            Column(m.key, m.label, m.kind, "measure", measure=j)
            for j, m in enumerate(self.spec.measures)
        ]
        if self._exact() and not truncated:
            overall = self._combine([figures for _, figures in rows])
        else:
            overall = self._total(()).get((), [None] * len(self.spec.measures))
        width = len(self.spec.group_by)
        return Result(
            columns=columns,
            rows=[[d for _, d in values] + figures for values, figures in rows],
            keys=[[k for k, _ in values] for values, _ in rows],
            totals=[None] * width + overall if self.spec.group_by else overall,
            truncated=truncated,
        )

    def _pivoted(self, rows, truncated: bool) -> Result:
        spec, pivot = self.spec, self.spec.pivot
        assert pivot is not None
        row_groups = spec.row_groups
        pivot_group = spec.group_by[pivot]
        cells: dict[tuple, dict[Any, list[Any]]] = {}
        display: dict[tuple, list[Any]] = {}
        pivot_display: dict[Any, Any] = {}
        for values, figures in rows:
            row_key = tuple(v[0] for i, v in enumerate(values) if i != pivot)
            display.setdefault(row_key, [v[1] for i, v in enumerate(values) if i != pivot])
            pivot_key, pivot_label = values[pivot]
            pivot_display[pivot_key] = pivot_label
            cells.setdefault(row_key, {})[pivot_key] = figures
        pivot_keys = sorted(
            pivot_display, key=lambda k: (k is None, str(k) if k is not None else "")
        )
        exact = self._exact() and not truncated
        row_totals = (
            {k: self._combine(list(c.values())) for k, c in cells.items()}
            if exact
            else self._total(row_groups)
        )
        column_totals = (
            {(p,): self._combine([c.get(p) for c in cells.values()]) for p in pivot_keys}
            if exact
            else self._total((pivot_group,))
        )
        overall = (
            self._combine(list(row_totals.values())) if exact else self._total(()).get(())
        ) or [None] * len(spec.measures)
        order = list(cells)
        for key, descending in spec.order_by:
            for j, m in enumerate(spec.measures):
                if key == m.key:
                    order.sort(key=lambda r: _sortable(row_totals.get(r, [None] * (j + 1))[j]),
                               reverse=descending)  # fmt: skip
        many = len(spec.measures) > 1
        columns = self._headers(row_groups)
        for p in pivot_keys:
            for j, m in enumerate(spec.measures):
                label = _pivot_label(pivot_group, pivot_display[p])
                if many:
                    label += f" · {m.label}"
                key = f"{pivot_group.key}={p}|{m.key}"
                columns.append(Column(key, label, m.kind, "measure", bucket=pivot_group.bucket,
                                      pivot_key=p, measure=j))  # fmt: skip
        for j, m in enumerate(spec.measures):
            columns.append(Column(f"total|{m.key}", "Total" + (f" · {m.label}" if many else ""),
                                  m.kind, "total", measure=j))  # fmt: skip
        out_rows, keys = [], []
        empty = [None] * len(spec.measures)
        for row_key in order:
            line = list(display[row_key])
            for p in pivot_keys:
                line += cells[row_key].get(p) or empty
            line += row_totals.get(row_key) or empty
            out_rows.append(line)
            keys.append(list(row_key))
        totals: list[Any] = [None] * len(row_groups)
        for p in pivot_keys:
            totals += column_totals.get((p,)) or empty
        totals += overall
        if spec.compare == "previous" and len(pivot_keys) > 1:
            _add_changes(columns, out_rows, totals, pivot_keys, pivot_display, len(row_groups),
                         len(spec.measures))  # fmt: skip
        return Result(columns, out_rows, keys, totals, pivot_keys, truncated)

    # -- list reports ----------------------------------------------------------------------------

    def list_statement(self, extra: tuple[Filter, ...] = ()) -> Select:
        builder = Builder(self.spec, self.ctx)
        selected = [builder.entities[()].id.label("record_id")]
        for i, ref in enumerate(self.spec.columns):
            if ref.ref is not None and self.label_columns.get(ref.ref.name):
                selected.append(
                    builder.label_of(ref, self.label_columns[ref.ref.name]).label(f"c{i}")
                )
            else:
                selected.append(builder.column(ref).label(f"c{i}"))
        stmt = builder.apply(select(*selected), extra)
        order = []
        for key, descending in self.spec.order_by:
            for i, ref in enumerate(self.spec.columns):
                if key == ref.path:
                    order.append(selected[i + 1].desc() if descending else selected[i + 1].asc())
        return stmt.order_by(*order, selected[0])

    def list_columns(self) -> list[Column]:
        return [
            Column(ref.path, ref.label, "text" if ref.ref else ref.kind, "field")
            for ref in self.spec.columns
        ]

    def count(self, extra: tuple[Filter, ...] = ()) -> int:
        stmt = self.list_statement(extra).order_by(None)
        return self.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0

    def raw_chunks(self, size: int = 5000, keep_dates: bool = False):
        """Every row of a list report (its columns, no record id), ``size`` at a time, streamed
        in constant memory, as lists of the driver's values with each column's conversion:
        ``(conversions, chunks)``, a conversion per column (None where the driver's value is the
        value). ``keep_dates``: a date column stays as the driver gives it (ISO text on SQLite,
        which is what a CSV writes anyway).

        A million rows through the ORM cost some 7 µs each in its result processing alone; here
        the statement, with the record rules applied as the session applies them
        (``core.record_rules.restricted``), runs on the session's connection and the driver's
        rows are read as they are: the caller converts only what its format needs.
        """
        stmt = self.list_statement()
        selected = list(stmt.selected_columns)[1:]
        # Typeless columns: the result hands the driver's values over unconverted.
        stmt = stmt.with_only_columns(*(type_coerce(c, NullType()).label(c.name) for c in selected))
        if self.spec.limit is not None:
            stmt = stmt.limit(self.spec.limit)
        server_side = self.dialect.supports_server_side_cursors
        # PostgreSQL: a named cursor, which the result buffers ahead (a row at once): read
        # through the result. SQLite: the driver's cursor streams by itself, read straight;
        # asking it to stream would make the result buffer ahead of it too.
        options = {"stream_results": True, "max_row_buffer": size} if server_side else {}
        result = self.session.connection().execute(restricted(stmt), execution_options=options)
        # Each column's conversion as SQLAlchemy would choose it for the driver's column type
        # (psycopg's numeric is a Decimal already: none; SQLite's a float: to Decimal).
        described = result.cursor.description
        conversions = [
            None
            if keep_dates and isinstance(column.type, Date)
            else column.type.dialect_impl(self.dialect).result_processor(self.dialect, kind[1])
            for column, kind in zip(selected, described, strict=True)
        ]

        def chunks() -> Iterator[list]:
            try:
                if server_side:
                    yield from result.partitions(size)  # rows of plain values: no processing
                    return
                cursor = result.cursor
                while rows := cursor.fetchmany(size):
                    yield rows
            finally:
                result.close()  # an export stopped half-way (a client gone) frees its cursor

        return conversions, chunks()

    @property
    def dialect(self) -> Any:
        return self.session.get_bind().dialect

    def run_list(
        self, limit: int | None, offset: int = 0, extra: tuple[Filter, ...] = ()
    ) -> Result:
        limit = min(x for x in (limit, self.spec.limit) if x is not None) if (
            limit or self.spec.limit) else None  # fmt: skip
        stmt = self.list_statement(extra)
        if limit is not None:
            stmt = stmt.limit(limit + 1).offset(offset)
        rows = self.session.execute(stmt).all()
        truncated = limit is not None and len(rows) > limit
        rows = rows[:limit] if limit is not None else rows
        columns = self.list_columns()
        totals = [
            sum((r[i + 1] for r in rows if r[i + 1] is not None), Decimal(0))
            if c.kind == "decimal" and not truncated
            else None
            for i, c in enumerate(columns)
        ]
        return Result(
            columns=columns,
            rows=[list(r[1:]) for r in rows],
            keys=[],
            totals=totals if any(t is not None for t in totals) else None,
            truncated=truncated,
            record_ids=[r[0] for r in rows],
        )


def _pivot_label(group: Group, value: Any) -> str:
    if group.bucket:
        return bucket_label(group.bucket, value)
    return "(empty)" if value is None else str(value)


def _change(current: Any, previous: Any) -> Decimal | None:
    """Percentage change, one decimal: None when there is nothing to compare with."""
    if current is None or not previous:
        return None
    ratio = (Decimal(str(current)) - Decimal(str(previous))) * 100 / Decimal(str(previous))
    return ratio.quantize(Decimal("0.1"))


def _add_changes(columns, rows, totals, pivot_keys, pivot_display, width: int, measures: int):
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


def _sortable(value: Any) -> Any:
    return (value is None, value if value is not None else 0)


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
