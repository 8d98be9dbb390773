"""The pricing rule protocol: what ``crm_pricing_rules`` returns and what its rules are given.

The core only defines the shapes; the engine that combines rules, and the turnover lookup behind
``PricingContext.turnover``, live in ``crm_pricing``. A module that contributes a kind (for example
``crm_contracts``' contract conditions) needs nothing but this file: no import of the engine or of
the catalogue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from marshmallow import Schema


class TurnoverLookup(Protocol):
    """Net turnover (invoices less credit notes, installation currency) of the quoted client.

    ``start`` and ``end`` are inclusive dates; ``product_group_ids`` limits it to those groups and
    their subgroups (``None``: all goods). ``quantity=True`` sums quantities instead of amounts.
    """

    def __call__(
        self,
        start: date,
        end: date,
        product_group_ids: tuple[int, ...] | None = None,
        *,
        quantity: bool = False,
    ) -> Decimal: ...


@dataclass(frozen=True)
class PricingContext:
    """Everything a rule kind may look at to price one line.

    Products and groups are given by id *and* code so that a module which does not depend on the
    catalogue (contracts keep product codes) can still match them. ``product_group_ids`` and
    ``product_group_codes`` are the product's group followed by its ancestors up to the root.
    ``payment_days`` is what the request says, else the client's preferred payment term, else None.
    """

    client_id: int
    customer_group_id: int | None
    product_id: int
    product_code: str
    product_group_ids: tuple[int, ...]
    product_group_codes: tuple[str, ...]
    quantity: Decimal
    on: date
    payment_days: int | None
    list_price: Decimal
    currency: str
    turnover: TurnoverLookup
    session: Any = None


@dataclass(frozen=True)
class Adjustment:
    """What a rule does to a price: a replacement base price, or a discount percent, and why."""

    reason: str
    discount_percent: Decimal | None = None
    base_price: Decimal | None = None


@dataclass(frozen=True)
class PricingRuleKind:
    """A kind of pricing rule. ``evaluate(context, params)`` returns an ``Adjustment`` when the rule
    applies, else a string saying why it does not (the quote explains every rule considered).

    ``automatic`` kinds take part in every quote without a rule configured by a manager (params
    ``{}``), at priority ``order`` in stack mode, unless a manager has configured a rule of that
    kind, which then takes its place: contract conditions work this way, since the contract itself
    is the configuration. ``prepare(session, client_ids, on)``, when given, is called once per quote
    or price list before ``evaluate`` so that a kind can load what it needs for many products in a
    constant number of queries; whatever it returns is passed to ``evaluate`` as
    ``params["_prepared"]``.

    ``describe_terms(session, client_id, on)``, when given, says in words what an automatic kind
    grants the client that day (``["contract C-0004: 2 % on Dairy"]``): the client file lists it
    among the client's negotiated discounts, since no configured rule shows it.
    """

    name: str
    label: str
    schema: type[Schema]
    evaluate: Callable[[PricingContext, dict[str, Any]], Adjustment | str]
    order: int = 100
    module: str = ""
    automatic: bool = False
    prepare: Callable[[Any, tuple[int, ...], date], Any] | None = None
    describe_terms: Callable[[Any, int, date], list[str]] | None = None
