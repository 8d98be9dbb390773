"""Rules that would pile up: before a rule is saved, the rules already in force for some of the
same clients and products on some of the same days, and how the engine would combine them with it.

The combination is the engine's (``crm_pricing.engine``): the order it considers rules in
(``sort_rules``), a base price set by the first rule that sets one, an exclusive discount that
excludes every other discount, stacked discounts compounded one after the other, and the cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, true
from sqlalchemy.orm import Session, joinedload

from crm_contacts.models import Client
from crm_pricing.engine import EXCLUSIVE, Rule, sort_rules
from crm_pricing.models import PricingRule
from crm_pricing.money import HUNDRED, fmt_percent
from crm_sales.models import Product, ProductGroup

MAX_SHOWN = 20


def _clients(data: dict[str, Any]) -> ColumnElement[bool]:
    everyone = and_(PricingRule.client_id.is_(None), PricingRule.customer_group_id.is_(None))
    client_id, group_id = data.get("client_id"), data.get("customer_group_id")
    if client_id:
        group = select(Client.customer_group_id).where(Client.id == client_id).scalar_subquery()
        return or_(
            everyone, PricingRule.client_id == client_id, PricingRule.customer_group_id == group
        )
    if group_id:
        members = select(Client.id).where(Client.customer_group_id == group_id)
        return or_(
            everyone, PricingRule.customer_group_id == group_id, PricingRule.client_id.in_(members)
        )
    return true()


def _products(data: dict[str, Any]) -> ColumnElement[bool]:
    every = and_(PricingRule.product_id.is_(None), PricingRule.product_group_id.is_(None))
    product_id, group_id = data.get("product_id"), data.get("product_group_id")
    if product_id:
        # The product's group and its ancestors: their paths begin the product group's path.
        own_path = (
            select(ProductGroup.path)
            .join(Product, Product.group_id == ProductGroup.id)
            .where(Product.id == product_id)
            .scalar_subquery()
        )
        ancestors = select(ProductGroup.id).where(own_path.like(ProductGroup.path + "%"))
        return or_(
            every, PricingRule.product_id == product_id, PricingRule.product_group_id.in_(ancestors)
        )
    if group_id:
        path = select(ProductGroup.path).where(ProductGroup.id == group_id).scalar_subquery()
        related = select(ProductGroup.id).where(
            or_(ProductGroup.path.like(path + "%"), path.like(ProductGroup.path + "%"))
        )
        below = select(ProductGroup.id).where(ProductGroup.path.like(path + "%"))
        products = select(Product.id).where(Product.group_id.in_(below))
        return or_(
            every, PricingRule.product_group_id.in_(related), PricingRule.product_id.in_(products)
        )
    return true()


def _days(data: dict[str, Any]) -> ColumnElement[bool]:
    start, end = data.get("valid_from"), data.get("valid_to")
    conditions = []
    if end:
        conditions.append(or_(PricingRule.valid_from.is_(None), PricingRule.valid_from <= end))
    if start:
        conditions.append(or_(PricingRule.valid_to.is_(None), PricingRule.valid_to >= start))
    return and_(true(), *conditions)


def overlapping(session: Session, data: dict[str, Any], rule_id: int | None) -> list[PricingRule]:
    """Active rules that concern some of the clients, products and days of ``data`` (a rule as
    the form has it), the rule being edited left out. One query; record rules apply."""
    stmt = (
        select(PricingRule)
        .where(PricingRule.active.is_(True), _clients(data), _products(data), _days(data))
        .options(joinedload(PricingRule.client), joinedload(PricingRule.product))
        .order_by(PricingRule.priority, PricingRule.name, PricingRule.id)
        .limit(MAX_SHOWN)
    )
    if rule_id is not None:
        stmt = stmt.where(PricingRule.id != rule_id)
    return list(session.scalars(stmt).unique())


@dataclass(frozen=True)
class Combination:
    """What the form shows: the rules in the engine's order and sentences about the new one."""

    ordered: list[Rule]
    lines: list[str]
    same_kind: list[Rule]


def _percent(params: Any) -> Decimal | None:
    try:
        value = Decimal(str(params.get("percent"))) if isinstance(params, dict) else None
    except (InvalidOperation, TypeError):
        return None
    return value if value is not None and value.is_finite() else None


def _ordinal(number: int) -> str:
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(number if number < 20 else number % 10, "th")
    return f"{number}{suffix}"


def combine(new: Rule, others: list[Rule], labels: dict[str, str]) -> Combination:
    """How the engine would treat ``new`` beside ``others``, in words."""
    ordered = sort_rules([new, *others])
    lines: list[str] = []
    name = f"“{new.name or 'this rule'}”"
    position = ordered.index(new) + 1
    lines.append(
        f"The engine considers these {len(ordered)} rules in order of priority, then name: "
        f"{name} comes {_ordinal(position)}."
    )
    exclusive_before = [r for r in ordered[: position - 1] if r.mode == EXCLUSIVE]
    if new.mode == EXCLUSIVE:
        lines.append(
            f"{name} is exclusive: when it applies, no other discount does"
            + (
                f", unless the exclusive “{exclusive_before[0].name}”, considered before it, "
                "applies."
                if exclusive_before
                else "."
            )
        )
    elif exclusive_before or any(r.mode == EXCLUSIVE for r in others):
        first = (exclusive_before or [r for r in others if r.mode == EXCLUSIVE])[0]
        lines.append(f"When the exclusive “{first.name}” applies, {name} gives no discount.")
    stacked = [r for r in ordered if r.mode != EXCLUSIVE]
    if new.mode != EXCLUSIVE and len(stacked) > 1:
        lines.append(
            "Stacked discounts are compounded, each on the price the previous one left: "
            + " → ".join(f"“{r.name}”" for r in stacked)
            + "."
        )
        percents = [p for r in stacked if (p := _percent(r.params)) is not None]
        if len(percents) > 1:
            factor = Decimal(1)
            for p in percents:
                factor *= 1 - p / HUNDRED
            lines.append(
                "Where they all apply, "
                + " and ".join(fmt_percent(p) for p in percents)
                + f" make {fmt_percent((1 - factor) * HUNDRED)} off, within the discount cap."
            )
    same_kind = [r for r in others if r.kind == new.kind]
    for other in same_kind:
        if new.mode == other.mode == EXCLUSIVE:
            verb = "only the first of the two in order that applies gives its discount"
        elif EXCLUSIVE in (new.mode, other.mode):
            verb = "when the exclusive one applies, the other gives no discount"
        else:
            verb = "both apply, one after the other"
        lines.append(
            f"“{other.name}” is also a {labels.get(new.kind, new.kind)} rule for some of the same "
            f"clients and products: {verb}."
        )
    return Combination(ordered, lines, same_kind)


def as_engine_rule(rule: PricingRule) -> Rule:
    return Rule(
        id=rule.id,
        name=rule.name or "",
        kind=rule.kind or "",
        params=rule.params or {},
        mode=rule.mode or "stack",
        priority=rule.priority if rule.priority is not None else 100,
        product_id=rule.product_id,
        product_group_id=rule.product_group_id,
        valid_from=rule.valid_from,
        valid_to=rule.valid_to,
    )
