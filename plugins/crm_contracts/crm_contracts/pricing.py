"""The pricing rule kind "contract conditions" (``crm_contracts.conditions``), given to the
pricing engine through the core hook ``crm_pricing_rules``: the contract is the configuration, so
the kind is automatic (it takes part in every quote without a rule set up by a manager).

For a client and a day, the conditions that count are those of the client's contracts that are in
force that day (signed, within their validity, not terminated: a contract terminated early stops
from its termination date) whose own validity, when they have one, covers the day.

- A negotiated **price** for the quoted product (matched by product code) replaces the base price.
- Otherwise a **discount** on the product's group or the nearest of its ancestors (matched by group
  code, ``context.product_group_codes`` runs from the product's own group up to the root) applies.
- Between two contracts naming the same product or group, the one that started last wins (then
  the higher id): a newer agreement supersedes an older one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core.pricing import Adjustment, PricingContext, PricingRuleKind
from core.schemas import Schema
from crm_contracts.models import CONDITION_KINDS, Condition, Contract

KIND = "crm_contracts.conditions"


class NoParameters(Schema):
    """Nothing to configure: each contract carries its own conditions."""


@dataclass
class ClientTerms:
    """The conditions in force for one client on one day, by product code and by group code."""

    prices: dict[str, tuple[Decimal, str]] = field(default_factory=dict)
    discounts: dict[str, tuple[Decimal, str]] = field(default_factory=dict)


def load_terms(session: Session, client_ids: tuple[int, ...], on: date) -> dict[int, ClientTerms]:
    """The conditions of ``client_ids``' contracts in force ``on``, in one query."""
    terms: dict[int, ClientTerms] = {client_id: ClientTerms() for client_id in client_ids}
    if not client_ids:
        return terms
    rows = session.execute(
        select(
            Contract.client_id,
            Contract.number,
            Condition.kind,
            Condition.product_code,
            Condition.group_code,
            Condition.group_name,
            Condition.price,
            Condition.discount_percent,
        )
        .join(Condition, Condition.contract_id == Contract.id)
        .where(
            Contract.client_id.in_(client_ids),
            Contract.signed_on.is_not(None),
            Contract.valid_from <= on,
            or_(Contract.valid_to.is_(None), Contract.valid_to >= on),
            or_(Contract.terminated_on.is_(None), Contract.terminated_on > on),
            or_(Condition.valid_from.is_(None), Condition.valid_from <= on),
            or_(Condition.valid_to.is_(None), Condition.valid_to >= on),
            Condition.kind.in_(CONDITION_KINDS),
        )
        # Older first, so that a newer contract's condition overwrites an older one's.
        .order_by(Contract.valid_from, Contract.id, Condition.id)
        # Prices must not depend on who asks: record rules do not narrow this.
        .execution_options(crm_all_records=True)
    ).all()
    for client_id, number, kind, product, group, group_name, price, percent in rows:
        found = terms[client_id]
        if kind == "price":
            found.prices[product] = (price, f"contract {number}: negotiated price {price}")
        else:
            label = group_name or group
            found.discounts[group] = (
                percent,
                f"contract {number}: {percent.normalize():f} % on {label}",
            )
    return terms


def prepare(session: Session, client_ids: tuple[int, ...], on: date) -> dict[int, ClientTerms]:
    return load_terms(session, tuple(client_ids), on)


def evaluate(context: PricingContext, params: dict[str, Any]) -> Adjustment | str:
    prepared = params.get("_prepared")
    if prepared is None or context.client_id not in prepared:
        if context.session is None:
            return "contract conditions were not loaded"
        prepared = load_terms(context.session, (context.client_id,), context.on)
    terms: ClientTerms = prepared[context.client_id]
    if context.product_code in terms.prices:
        price, reason = terms.prices[context.product_code]
        return Adjustment(reason=reason, base_price=price)
    for code in context.product_group_codes:
        if code in terms.discounts:
            percent, reason = terms.discounts[code]
            return Adjustment(reason=reason, discount_percent=percent)
    return "no contract in force sets a condition for this product"


def describe_terms(session: Session, client_id: int, on: date) -> list[str]:
    """The client's contract conditions in force ``on``, in words, for the client file."""
    terms = load_terms(session, (client_id,), on)[client_id]
    # A price's reason names no product (a quote shows it on the product's line): here it must.
    prices = [f"{reason} for {code}" for code, (_price, reason) in terms.prices.items()]
    return prices + [reason for _percent, reason in terms.discounts.values()]


def rule_kind() -> PricingRuleKind:
    return PricingRuleKind(
        name=KIND,
        label="Contract conditions",
        schema=NoParameters,
        evaluate=evaluate,
        order=20,
        automatic=True,
        prepare=prepare,
        describe_terms=describe_terms,
    )
