"""Record rules (Odoo's ``ir.rule``): which rows of a model a user may see or change.

A module declares rules through ``crm_record_rules``. For a user, the enabled rules of a model whose
groups the user belongs to are combined with OR (each group grants its share of the rows); when no
rule applies, the model is not restricted; administrators are never restricted.

They are applied in one place: every ORM SELECT, UPDATE and DELETE issued through a request's
session gets the criteria (``with_loader_criteria``), so lists, detail pages, the JSON API, search,
exports and reports obey them without knowing they exist. A query that must see everything (a
system job) passes ``execution_options(crm_all_records=True)``.

Ownership. A model registered with ``ModelDef(..., owned_by="client_id")`` belongs to the record its
foreign key points to: the parent's criteria apply to it too (``client_id IN (SELECT id FROM client
WHERE <the client's criteria>)``), ANDed with the model's own rules, and recursively (a task's
transition follows the task, which follows its own rules). A NULL owner column means the record
belongs to no parent and is not restricted by the parent's rules. So a module (or a partner's
plugin) that stores records of a client never writes the client's rules again. Attachments follow
the record they are attached to, whatever its model.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import g, has_request_context
from sqlalchemy import ColumnElement, String, and_, cast, event, inspect, or_, select, true
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker
from sqlalchemy.sql.elements import True_
from sqlalchemy.sql.selectable import Join

from core.models import Attachment, RecordRuleState
from core.rule_options import build_options
from core.state import current_state

ADMIN_GROUP = "admin"


@dataclass(frozen=True)
class RuleUser:
    """What a rule's criteria may use of the current user."""

    id: int
    groups: frozenset[str]


@dataclass(frozen=True)
class RecordRule:
    """``criteria(user)`` returns the SQL condition rows must meet, e.g.
    ``lambda user: Client.responsible_id == user.id``. ``default_enabled`` is the state of a new
    installation; administrators switch rules on and off per installation."""

    code: str
    label: str
    model: type
    groups: tuple[str, ...]
    criteria: Callable[[RuleUser], ColumnElement[bool]]
    default_enabled: bool = True
    module: str = ""


def enabled_rules(session: Session, rules: Iterable[RecordRule]) -> tuple[RecordRule, ...]:
    states = {s.code: s.enabled for s in session.scalars(select(RecordRuleState))}
    return tuple(r for r in rules if states.get(r.code, r.default_enabled))


def set_rule_enabled(session: Session, code: str, enabled: bool) -> None:
    state = session.get(RecordRuleState, code) or RecordRuleState(code=code)
    state.enabled = enabled
    session.add(state)


def criteria_for(rules: Iterable[RecordRule], user: RuleUser) -> dict[type, ColumnElement[bool]]:
    """The condition per model for ``user``: OR of the rules of the user's groups."""
    if ADMIN_GROUP in user.groups:
        return {}
    by_model: dict[type, list[ColumnElement[bool]]] = {}
    for rule in rules:
        if user.groups & set(rule.groups):
            by_model.setdefault(rule.model, []).append(rule.criteria(user))
    # A rule granting every row makes the others moot: say so with a plain true(), which
    # with_owners recognises (or_(true()) is not one) and so spares owned models a subquery.
    return {
        model: true() if any(isinstance(c, True_) for c in conditions) else or_(*conditions)
        for model, conditions in by_model.items()
    }


def with_owners(
    criteria: dict[type, ColumnElement[bool]], registry: Any, *, per_row: bool = False
) -> dict[type, ColumnElement[bool]]:
    """``criteria`` extended to every model of ``registry`` that is ``owned_by`` a restricted
    record, directly or through a chain of owners.

    Two forms of the same condition. By default a record's owner must be among the visible
    owners (``client_id IN (SELECT id FROM client WHERE …)``): on SQLite that list lets a list or
    a report walk an index by the user's clients, but it is built whole for every statement, so
    its cost follows the user's share of the database. ``per_row`` looks each row's owner up by
    its key instead (``EXISTS (SELECT … WHERE client.id = x.client_id AND …)``): the cost follows
    the rows the statement reads, which is what a page of a few rows from many tables (the client
    file) wants (``rules_per_row``)."""
    if not criteria or registry is None:
        return criteria
    parents = {info.model: registry.parents(info) for info in registry if info.owners}
    result: dict[type, ColumnElement[bool] | None] = {}

    def effective(model: type, seen: frozenset[type]) -> ColumnElement[bool] | None:
        if model in result:
            return result[model]
        if model in seen:  # an ownership cycle: the cycle adds nothing to what its members say
            return criteria.get(model)
        conditions = [criteria[model]] if model in criteria else []
        for column_name, parent in parents.get(model, ()):
            condition = effective(parent, seen | {model})
            if condition is None or isinstance(condition, True_):
                continue
            column = getattr(model, column_name)
            key = inspect(parent).primary_key[0]
            if per_row and parent is not model:
                # Correlated to the owned row only: a statement that joins the owner's table
                # too still looks the owner up in its own FROM.
                table = inspect(parent).local_table
                owner = select(key).where(key == column, condition).correlate_except(table).exists()
            else:  # a model owned by its own kind could not be told from its owner by correlation
                owner = column.in_(select(key).where(condition))
            conditions.append(or_(column.is_(None), owner))
        # One condition as it is: and_() of a lone true() would hide that it is one.
        if not conditions:
            result[model] = None
        else:
            result[model] = conditions[0] if len(conditions) == 1 else and_(*conditions)
        return result[model]

    for model in parents:
        effective(model, frozenset())
    extended = {model: c for model, c in result.items() if c is not None}
    combined = {**criteria, **extended}
    return {**combined, Attachment: _attachments_criteria(combined)}


def _attachments_criteria(criteria: dict[type, ColumnElement[bool]]) -> ColumnElement[bool]:
    """An attachment is seen by those who may see its record: attachments of a restricted model
    are those of its visible rows; those of other models are not restricted."""
    restricted = []
    for model, condition in criteria.items():
        if isinstance(condition, True_):
            continue
        mapper = inspect(model)
        if len(mapper.primary_key) != 1:
            continue
        key = mapper.get_property_by_column(mapper.primary_key[0]).class_attribute
        visible = select(cast(key, String)).where(condition)
        restricted.append((mapper.local_table.name, visible))
    if not restricted:
        return true()
    names = [name for name, _ in restricted]
    return or_(
        Attachment.model.not_in(names),
        *(
            and_(Attachment.model == name, Attachment.record_id.in_(visible))
            for name, visible in restricted
        ),
    )


def activate(rules: tuple[RecordRule, ...], user: RuleUser, registry: Any = None) -> None:
    """Make ``rules`` apply to the rest of this request, for ``user``, and to the models
    ``owned_by`` restricted records (through ``registry``, by default the current one)."""
    if registry is None:
        registry = current_state().models
    criteria = g.crm_record_criteria = _criteria_of(rules, user, registry)
    g.crm_record_options = (criteria, _options_of(rules, user, registry))
    g.crm_record_owners = (rules, user, registry)
    g.pop("crm_rules_per_row", None)


def rules_per_row() -> None:
    """For the rest of this request, owned records are checked against their owner row by row
    (``with_owners(per_row=True)``): the same rules, for a page that reads a few rows of many
    owned tables, whose cost must not follow the user's share of the database."""
    if not has_request_context() or "crm_record_owners" not in g:
        return
    g.crm_rules_per_row = True


@functools.lru_cache(maxsize=256)
def _own_of(rules: tuple[RecordRule, ...], user: RuleUser) -> dict[type, ColumnElement[bool]]:
    return criteria_for(rules, user)


@functools.lru_cache(maxsize=256)
def _per_row_of(
    rules: tuple[RecordRule, ...], user: RuleUser, registry: Any
) -> dict[type, ColumnElement[bool]]:
    """The criteria of ``rules_per_row``, built once per process like ``_criteria_of``."""
    return with_owners(_own_of(rules, user), registry, per_row=True)


@functools.lru_cache(maxsize=256)
def _criteria_of(
    rules: tuple[RecordRule, ...], user: RuleUser, registry: Any
) -> dict[type, ColumnElement[bool]]:
    """``with_owners(criteria_for(...))``, built once per process for each user, groups and
    installed set rather than at every request (a representative's conditions span some thirty
    models and cost a millisecond or two to build). A rule's criteria depend on ``user`` alone
    (its id and groups), and a change of groups, of enabled rules or of the installed set is a new
    key. SQL expressions are immutable, so requests and threads share them; callers never
    mutate the dict."""
    return with_owners(_own_of(rules, user), registry)


@functools.lru_cache(maxsize=256)
def _options_of(rules: tuple[RecordRule, ...], user: RuleUser, registry: Any) -> tuple[Any, ...]:
    """The loader options of ``_criteria_of(...)``, kept as long: each computes its cache key
    once (``core.rule_options``)."""
    return build_options(_criteria_of(rules, user, registry))


@functools.lru_cache(maxsize=256)
def _per_row_options_of(
    rules: tuple[RecordRule, ...], user: RuleUser, registry: Any
) -> tuple[Any, ...]:
    """The loader options of ``_per_row_of(...)``, kept as long."""
    return build_options(_per_row_of(rules, user, registry))


def criteria_in_force() -> dict[type, ColumnElement[bool]]:
    """The condition per model that the rules in force in this request add to every query (a
    model absent is not restricted): what a cache of computed figures keys on, so that users
    restricted differently never share an entry."""
    if not has_request_context():
        return {}
    return dict(g.get("crm_record_criteria") or {})


def is_restricted(model: type) -> bool:
    """Whether the rules in force in this request hide some rows of ``model`` from the user: code
    that computes figures outside the ORM (raw SQL, a cache) then restricts them itself, e.g. to
    the ids a query through the rules gives."""
    if not has_request_context():
        return False
    condition = (g.get("crm_record_criteria") or {}).get(model)
    return condition is not None and not isinstance(condition, True_)


def can_see(session: Session, model: type | str, record_id: Any) -> bool:
    """Whether the record ``record_id`` of ``model`` (a class or a registry name) exists and the
    rules in force on ``session`` let the current user see it. Asked with a query, never from the
    session's identity map, which may hold a record loaded without the rules."""
    if isinstance(model, str):
        models = current_state().models
        if model not in models:
            return False
        model = models.get(model).model
    mapper = inspect(model)
    if len(mapper.primary_key) != 1 or record_id is None:
        return False
    primary = mapper.primary_key
    try:
        key = primary[0].type.python_type(record_id)
    except (TypeError, ValueError, NotImplementedError, OverflowError):
        return False
    if isinstance(key, int) and not -(2**63) <= key < 2**63:
        return False  # no such row, and the database would refuse the number
    # The ORM attribute, not the table column: criteria apply to ORM entities only.
    column = mapper.get_property_by_column(primary[0]).class_attribute
    found = session.scalar(select(column).where(column == key).limit(1))
    return found is not None


def install_listener(factory: sessionmaker[Session]) -> None:
    @event.listens_for(factory, "do_orm_execute")
    def apply_record_rules(state: ORMExecuteState) -> Any:
        if not has_request_context():
            return
        criteria = g.get("crm_record_criteria")
        options = None
        if g.get("crm_rules_per_row"):
            criteria = _per_row_of(*g.crm_record_owners)
            options = _per_row_options_of(*g.crm_record_owners)
        if not criteria or state.execution_options.get("crm_all_records"):
            return
        if not (state.is_select or state.is_update or state.is_delete) or state.is_column_load:
            return
        state.statement = _restricted(
            state.statement, criteria, state.is_select and not state.is_orm_statement, options
        )


def _restricted(
    statement: Any,
    criteria: dict[type, ColumnElement[bool]],
    tables: bool,
    options: tuple[Any, ...] | None = None,
) -> Any:
    if tables:
        statement = _restrict_tables(statement, criteria)
    return _with_options(statement, options or _criteria_options(criteria))


def _with_options(statement: Any, options: tuple[Any, ...]) -> Any:
    """``statement.options(*options)`` without its check of each option's kind: these are
    built here (``core.rule_options``), and the check of a representative's twenty-odd options
    cost 0.1 ms a statement (3 ms of her client file). A relationship loader's statement (a
    ``selectinload``) arrives carrying its parent statement's options, these among them: they
    are not added twice, which put every condition twice into its SQL."""
    present = statement._with_options
    options = tuple(o for o in options if not any(p is o for p in present))
    if not options:
        return statement
    statement = statement._generate()
    statement._with_options += options
    return statement


def _criteria_options(criteria: dict[type, ColumnElement[bool]]) -> tuple[Any, ...]:
    """The loader options of ``criteria``: those ``activate`` prepared with them, or built once
    for the request when the criteria were set otherwise."""
    cached = g.get("crm_record_options") if has_request_context() else None
    if cached is None or cached[0] is not criteria:
        options = build_options(criteria)
        if has_request_context():
            g.crm_record_options = (criteria, options)
        return options
    return cached[1]


def restricted(statement: Any) -> Any:
    """``statement`` (a SELECT) with the rules in force in this request applied, as the session
    applies them to what it runs: for code that runs it on the session's connection itself, to
    read the driver's rows without the ORM's processing (a million-row export). Compiled, the
    ORM puts the criteria into it as it would through the session."""
    criteria = g.get("crm_record_criteria") if has_request_context() else None
    if not criteria:
        return statement
    # What ORMExecuteState.is_orm_statement tells the listener: whether the ORM compiles it.
    orm = statement._propagate_attrs.get("compile_state_plugin") == "orm"
    return _restricted(statement, criteria, not orm)


def _restrict_tables(statement: Any, criteria: dict[type, ColumnElement[bool]]) -> Any:
    """A SELECT that names no mapped entity (an aggregate of expressions such as
    ``select(func.sum(case((Contract.status == "active", 1))))``, or one on ``Model.__table__``)
    is not seen by ``with_loader_criteria``: its tables that are restricted get the conditions
    in its WHERE, so counts and totals agree with the rows. Writes through tables are left to
    the system code that issues them."""
    by_table = {inspect(model).local_table: c for model, c in criteria.items()}
    present: set[Any] = set()
    pending = list(statement.get_final_froms())
    while pending:
        item = pending.pop()
        if isinstance(item, Join):
            pending += [item.left, item.right]
        elif item in by_table:
            present.add(item)
    conditions = [by_table[t] for t in by_table if t in present]
    return statement.where(*conditions) if conditions else statement
