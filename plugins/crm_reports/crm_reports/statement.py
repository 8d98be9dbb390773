"""How a report's spec becomes one ORM SELECT: its entities and joins, its filters, groups and
measures (``Builder``). ``engine`` runs it.

Each model is joined as itself; a second path to a model already in the statement goes through a
subquery of it, never an alias (the ORM does not adapt a rule's criteria, written against the
class, to an alias). A relation that is never empty is an inner join, so a row whose parent the
user may not see drops out; a relation that may be empty is an outer join, so rows without one
stay (shown "(empty)").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, distinct, func, or_, select

from core.report_fields import FieldRef
from core.report_spec import Filter, Group, Measure, Spec
from crm_reports.periods import (
    bucket_expression,
    day_bounds_utc,
    local_value,
    relative_range,
)


@dataclass(frozen=True)
class Context:
    dialect: str
    zone: str
    today: date


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
            self.joins.append((_join_target(target), getattr(parent, fk) == entity.id, outer))
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


def _join_target(entity: Any) -> Any:
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


def aggregate(measure: Measure, column: Any) -> Any:
    if measure.agg == "count":
        return func.count(column)
    if measure.agg == "count_distinct":
        return func.count(distinct(column))
    return getattr(func, measure.agg)(column)
