"""Record rules (Odoo's ``ir.rule``): which rows of a model a user may see or change.

A module declares rules through ``crm_record_rules``. For a user, the enabled rules of a model whose
groups the user belongs to are combined with OR (each group grants its share of the rows); when no
rule applies, the model is not restricted; administrators are never restricted.

They are applied in one place: every ORM SELECT, UPDATE and DELETE issued through a request's
session gets the criteria (``with_loader_criteria``), so lists, detail pages, the JSON API, search,
exports and reports obey them without knowing they exist. A query that must see everything (a
system job) passes ``execution_options(crm_all_records=True)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import g, has_request_context
from sqlalchemy import ColumnElement, event, or_, select
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker, with_loader_criteria

from core.models import RecordRuleState

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
    return {model: or_(*conditions) for model, conditions in by_model.items()}


def activate(rules: tuple[RecordRule, ...], user: RuleUser) -> None:
    """Make ``rules`` apply to the rest of this request, for ``user``."""
    g.crm_record_criteria = criteria_for(rules, user)


def install_listener(factory: sessionmaker[Session]) -> None:
    @event.listens_for(factory, "do_orm_execute")
    def apply_record_rules(state: ORMExecuteState) -> Any:
        if not has_request_context():
            return
        criteria = g.get("crm_record_criteria")
        if not criteria or state.execution_options.get("crm_all_records"):
            return
        if not (state.is_select or state.is_update or state.is_delete) or state.is_column_load:
            return
        state.statement = state.statement.options(
            *(
                with_loader_criteria(model, condition, include_aliases=True)
                for model, condition in criteria.items()
            )
        )
