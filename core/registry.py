"""The model registry: every model of an installed module, with its owner, label, fields and schema.

Generic views, the JSON API, the report generator and uninstall read models from here rather than
importing plugins, so the core can work with models it has never heard of.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema
from marshmallow_sqlalchemy import SQLAlchemyAutoSchema
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import RelationshipProperty


@dataclass(frozen=True)
class ModelDef:
    """What ``crm_models`` returns for a model when it wants more than the defaults."""

    model: type
    label: str | None = None
    schema: type[Schema] | None = None
    plural: str | None = None
    #: Columns a picker searches (``GET /api/v1/lookup/<name>?q=``); the first is the label, the
    #: others are shown beside it. Empty: the model has no picker.
    lookup: tuple[str, ...] = ()
    #: Columns shown beside the label in a picker (default: the other ``lookup`` columns).
    lookup_detail: tuple[str, ...] | None = None
    #: Columns a picker may filter on by equality (``?client_id=12``).
    lookup_filters: tuple[str, ...] = ()
    #: The permission needed to look records up; default ``<module>.read``.
    read_permission: str | None = None
    #: the foreign-key column(s) through which each record belongs to a parent record (a client, a
    #: contract...): the parent's record rules then apply to this model too (``core.record_rules``)
    owned_by: str | tuple[str, ...] | None = None


@dataclass(frozen=True)
class FieldInfo:
    name: str
    type: str
    label: str
    required: bool
    relation: str | None = None  # the table (column) or model (relationship) it points to


@dataclass(frozen=True)
class ModelInfo:
    name: str  # the table name: unique, prefixed with the owner module
    owner: str
    label: str
    plural: str
    model: type
    schema: type[Schema]
    fields: tuple[FieldInfo, ...] = field(default=())
    lookup: tuple[str, ...] = ()
    lookup_detail: tuple[str, ...] = ()
    lookup_filters: tuple[str, ...] = ()
    read_permission: str = ""
    #: ``(column attribute, parent table)`` for each ``owned_by`` column
    owners: tuple[tuple[str, str], ...] = ()

    @property
    def table_name(self) -> str:
        return self.model.__table__.name


def _humanise(name: str) -> str:
    return name.replace("_", " ").strip().capitalize()


def describe_fields(model: type) -> tuple[FieldInfo, ...]:
    mapper = sa_inspect(model)
    fields: list[FieldInfo] = []
    for column in mapper.columns:
        relation = None
        if column.foreign_keys:
            relation = next(iter(column.foreign_keys)).column.table.name
        fields.append(
            FieldInfo(
                name=column.key,
                type=type(column.type).__name__,
                label=column.info.get("label") or _humanise(column.key),
                required=not column.nullable and column.default is None and not column.primary_key,
                relation=relation,
            )
        )
    for rel in mapper.relationships:
        assert isinstance(rel, RelationshipProperty)
        fields.append(
            FieldInfo(
                name=rel.key,
                type="many" if rel.uselist else "one",
                label=rel.info.get("label") or _humanise(rel.key),
                required=False,
                relation=rel.mapper.class_.__table__.name,
            )
        )
    return tuple(fields)


def _owners(model: type, owned_by: str | tuple[str, ...] | None) -> tuple[tuple[str, str], ...]:
    """Check each ``owned_by`` column and find the table it points to."""
    names = (owned_by,) if isinstance(owned_by, str) else tuple(owned_by or ())
    columns = sa_inspect(model).columns
    owners = []
    for name in names:
        column = columns.get(name)
        if column is None:
            raise ValueError(f"model {model.__name__}: owned_by names no column {name!r}")
        keys = list(column.foreign_keys)
        if len(keys) != 1:
            raise ValueError(
                f"model {model.__name__}: owned_by column {name!r} must be one foreign key"
            )
        owners.append((name, keys[0].column.table.name))
    return tuple(owners)


def auto_schema(model: type) -> type[Schema]:
    """A marshmallow schema derived from the columns, for models that do not bring their own."""
    meta = type("Meta", (), {"model": model, "load_instance": False, "include_fk": True})
    return type(f"{model.__name__}AutoSchema", (SQLAlchemyAutoSchema,), {"Meta": meta})


class ModelRegistry:
    def __init__(self) -> None:
        self._models: dict[str, ModelInfo] = {}

    def add(self, owner: str, entry: type | ModelDef) -> ModelInfo:
        definition = entry if isinstance(entry, ModelDef) else ModelDef(model=entry)
        model = definition.model
        name = model.__table__.name
        if not name.startswith(owner + "_"):
            raise ValueError(
                f"model {model.__name__} of module {owner!r} has table {name!r}: "
                f"tables must start with the module name ({owner}_...)"
            )
        if name in self._models:
            raise ValueError(f"model {name!r} is registered twice")
        label = definition.label or _humanise(model.__name__)
        info = ModelInfo(
            name=name,
            owner=owner,
            label=label,
            plural=definition.plural or label + "s",
            model=model,
            schema=definition.schema or auto_schema(model),
            fields=describe_fields(model),
            lookup=definition.lookup,
            lookup_detail=definition.lookup[1:]
            if definition.lookup_detail is None
            else definition.lookup_detail,
            lookup_filters=definition.lookup_filters,
            read_permission=definition.read_permission or f"{owner}.read",
            owners=_owners(model, definition.owned_by),
        )
        columns = set(sa_inspect(model).columns.keys())
        named = (*definition.lookup, *(definition.lookup_detail or ()), *definition.lookup_filters)
        unknown = [c for c in named if c not in columns]
        if unknown:
            raise ValueError(f"model {name!r}: lookup names unknown columns {unknown}")
        self._models[name] = info
        return info

    def get(self, name: str) -> ModelInfo:
        return self._models[name]

    def __contains__(self, name: object) -> bool:
        return name in self._models

    def __iter__(self):
        return iter(self._models.values())

    def for_model(self, model: type) -> ModelInfo | None:
        return self._models.get(getattr(model, "__tablename__", ""))

    def parents(self, info: ModelInfo) -> list[tuple[str, type]]:
        """``(column attribute, parent model)`` for each ``owned_by`` column of ``info``."""
        return [(column, self._model_of_table(info.model, table)) for column, table in info.owners]

    def _model_of_table(self, child: type, table: str) -> type:
        if table in self._models:
            return self._models[table].model
        # A parent outside the registry (a core table, a model a module did not register) can
        # still carry record rules: SQLAlchemy's own registry knows every mapped class.
        for mapper in sa_inspect(child).registry.mappers:
            if mapper.local_table is not None and mapper.local_table.name == table:
                return mapper.class_
        raise ValueError(f"no mapped model has the table {table!r}")

    def owned_by(self, module: str) -> list[ModelInfo]:
        return [m for m in self._models.values() if m.owner == module]

    def describe(self) -> list[dict[str, Any]]:
        return [
            {
                "name": m.name,
                "owner": m.owner,
                "label": m.label,
                "fields": [f.__dict__ for f in m.fields],
            }
            for m in self
        ]

    @classmethod
    def from_entries(cls, entries: Iterable[tuple[str, type | ModelDef]]) -> ModelRegistry:
        registry = cls()
        for owner, entry in entries:
            registry.add(owner, entry)
        return registry
