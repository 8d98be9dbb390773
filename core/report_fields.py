"""Field paths through the model registry, and who may report on what.

A path is dotted: ``client.customer_group.name``. Each step but the last follows a many-to-one
relation: a relationship of the model (``document``) or a foreign-key column named without its
``_id`` (``client`` for ``client_id``). A relation leads only into a registered model whose module's
read permission the user holds (``core_user`` is the one core model reachable, for the names of
representatives); anything else is refused, the first kind of mistake with a 400 and the second
with a 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect as sa_inspect

from core.models import User
from core.registry import ModelInfo, ModelRegistry

#: Columns that name a record, in order of preference, for the label of a relation.
LABEL_COLUMNS = ("name", "title", "number", "code", "label", "login")
#: Column names never offered nor accepted (secrets, internals).
HIDDEN_COLUMNS = frozenset({"password_hash", "session_token", "checksum", "params_json"})


class SpecError(Exception):
    """A spec that cannot run: ``where`` names the part of the spec (``filters[1].field``)."""

    status = 400

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where, self.message = where, message


class SpecForbidden(SpecError):
    status = 403


@dataclass(frozen=True)
class Target:
    """A model a path may reach: a registered one, or the core's user (names only)."""

    name: str
    label: str
    model: type
    owner: str
    info: ModelInfo | None

    def column_names(self) -> list[str]:
        names = [c.key for c in sa_inspect(self.model).columns if c.key not in HIDDEN_COLUMNS]
        if self.info is None:  # core_user: what a report may show of a person
            return [n for n in names if n in ("id", "name", "login")]
        return names


USER_TARGET = Target("core_user", "User", User, "core", None)


def kind_of(column: Any) -> str:
    """What a column holds, for operators and formatting: integer, decimal, number, date,
    datetime, boolean or text."""
    try:
        python_type = column.type.python_type
    except (AttributeError, NotImplementedError):
        return "text"
    if python_type is bool:
        return "boolean"
    if python_type is int:
        return "integer"
    if python_type is Decimal:
        return "decimal"
    if python_type is float:
        return "number"
    if python_type is datetime:
        return "datetime"
    if python_type is date:
        return "date"
    return "text"


@dataclass(frozen=True)
class Step:
    """One relation followed: from the entity at ``prefix`` through ``attribute`` to ``target``."""

    prefix: tuple[str, ...]  # the relation names followed before this one
    name: str  # the relation's name in the path
    fk_column: str  # the foreign-key column of the source model
    target: Target
    nullable: bool


@dataclass(frozen=True)
class FieldRef:
    """A resolved path: the relations to follow and the column at the end."""

    path: str
    steps: tuple[Step, ...]
    target: Target  # the model holding the column
    column: str
    kind: str
    label: str
    ref: Target | None = None  # the column is a foreign key to this (readable) model

    @property
    def prefix(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.steps)


class Fields:
    """Resolves paths for one user: ``readable`` is the set of modules whose read permission the
    user holds (``None``: every module, for checks made when the installed set is built)."""

    def __init__(self, registry: ModelRegistry, readable: set[str] | None) -> None:
        self.registry = registry
        self.readable = readable

    def may_read(self, owner: str) -> bool:
        return owner == "core" or self.readable is None or owner in self.readable

    def target(self, name: str) -> Target | None:
        if name == USER_TARGET.name:
            return USER_TARGET
        if name not in self.registry:
            return None
        info = self.registry.get(name)
        return Target(info.name, info.label, info.model, info.owner, info)

    def root(self, name: Any, where: str = "model") -> Target:
        target = self.target(name) if isinstance(name, str) else None
        if target is None or target.info is None:
            raise SpecError(where, f"unknown model {name!r}")
        if not self.may_read(target.owner):
            raise SpecForbidden(where, f"you may not read {target.label} ({target.owner}.read)")
        return target

    def labels(self, target: Target) -> dict[str, str]:
        columns = sa_inspect(target.model).columns
        by_info = {}
        if target.info is not None:
            by_info = {f.name: f.label for f in target.info.fields}
        return {
            c.key: by_info.get(c.key) or c.info.get("label") or c.key.replace("_", " ").capitalize()
            for c in columns
        }

    def relation(self, source: Target, name: str) -> tuple[str, Target, bool] | None:
        """(foreign-key column, target, nullable) of relation ``name`` of ``source``, or None."""
        mapper = sa_inspect(source.model)
        column_name = None
        if name in mapper.relationships:
            rel = mapper.relationships[name]
            if rel.uselist or len(rel.local_columns) != 1:
                return None
            column_name = next(iter(rel.local_columns)).key
        elif name + "_id" in mapper.columns:
            column_name = name + "_id"
        if column_name is None:
            return None
        column = mapper.columns[column_name]
        if not column.foreign_keys:
            return None
        target = self.target(next(iter(column.foreign_keys)).column.table.name)
        if target is None:
            return None
        return column_name, target, bool(column.nullable)

    def resolve(self, path: Any, where: str, root: Target) -> FieldRef:
        if not isinstance(path, str) or not path.strip():
            raise SpecError(where, "a field path is required")
        parts = path.strip().split(".")
        current, steps, labels = root, [], []
        for i, part in enumerate(parts[:-1]):
            found = self.relation(current, part)
            if found is None:
                raise SpecError(where, f"{current.label} has no relation {part!r} (in {path!r})")
            fk_column, target, nullable = found
            if not self.may_read(target.owner):
                raise SpecForbidden(
                    where, f"you may not read {target.label} ({target.owner}.read), in {path!r}"
                )
            labels.append(self.labels(current)[fk_column].removesuffix(" id"))
            steps.append(Step(tuple(parts[:i]), part, fk_column, target, nullable))
            current = target
        last = parts[-1]
        columns = sa_inspect(current.model).columns
        if last not in columns and (found := self.relation(current, last)) is not None:
            last = found[0]  # "client" names the relation: its key column, shown by its label
        if last not in columns or last in HIDDEN_COLUMNS or last not in current.column_names():
            raise SpecError(where, f"{current.label} has no field {last!r} (in {path!r})")
        column = columns[last]
        ref = None
        if column.foreign_keys:
            ref = self.target(next(iter(column.foreign_keys)).column.table.name)
            if ref is not None and not self.may_read(ref.owner):
                ref = None
        if not steps or last != self.label_column(current):
            labels.append(self.labels(current)[last])
        return FieldRef(
            path=path.strip(),
            steps=tuple(steps),
            target=current,
            column=last,
            kind="reference" if ref is not None else kind_of(column),
            label=" › ".join(labels),
            ref=ref,
        )

    def choices(self, root: Target, depth: int = 2) -> list[FieldRef]:
        """Every path a picker offers from ``root``: its fields, then those of the models its
        relations reach, ``depth`` relations deep at most."""
        found: list[FieldRef] = []

        def walk(target: Target, prefix: list[str]) -> None:
            for name in target.column_names():
                try:
                    found.append(self.resolve(".".join([*prefix, name]), "field", root))
                except SpecError:
                    continue
            if len(prefix) >= depth:
                return
            for name in target.column_names():
                if not name.endswith("_id"):
                    continue
                relation = self.relation(target, name[:-3])
                if relation and self.may_read(relation[1].owner):
                    walk(relation[1], [*prefix, name[:-3]])

        walk(root, [])
        return found

    def label_column(self, target: Target) -> str:
        names = target.column_names()
        return next((n for n in LABEL_COLUMNS if n in names), "id")
