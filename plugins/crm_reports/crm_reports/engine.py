"""Runs a spec: one ORM SELECT (joins, WHERE, GROUP BY) through the request's session.

Through the session, the core's record rules reach every entity of the statement, the joined ones
too (``with_loader_criteria`` puts them into each join's ON clause, and into subqueries): a
representative's report adds up only what she may see. The statement is built in ``statement``.

Totals of ``sum``, ``count``, ``min`` and ``max`` are combined from the cells; ``avg`` and
``count_distinct`` cannot be, and a truncated result has not got every cell: then one more GROUP BY
per kind of total is run (at most three).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, Select, func, inspect, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from core.record_rules import restricted
from core.report_spec import Filter, Group, Measure, Spec
from crm_reports.cache import cached
from crm_reports.periods import prepare_session
from crm_reports.result import Column, Result, add_changes, pivot_column_label
from crm_reports.statement import Builder, Context, aggregate

DISPLAY_LIMIT = 1000
COMBINABLE = ("sum", "count", "min", "max")


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
            aggregate(m, builder.column(m.ref)).label(f"m{j}")
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
                label = pivot_column_label(pivot_group, pivot_display[p])
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
            add_changes(columns, out_rows, totals, pivot_keys, pivot_display, len(row_groups),
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


def _sortable(value: Any) -> Any:
    return (value is None, value if value is not None else 0)
