"""The pricing rule protocol: what ``crm_pricing_rules`` returns.

The core only defines the shape; the engine that combines rules lives in ``crm_pricing``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from marshmallow import Schema


@dataclass(frozen=True)
class Adjustment:
    """What a rule does to a price: a replacement base price, or a discount percent, and why."""

    reason: str
    discount_percent: Decimal | None = None
    base_price: Decimal | None = None


@dataclass(frozen=True)
class PricingRuleKind:
    """A kind of pricing rule. ``evaluate(context, params)`` returns an ``Adjustment`` when the rule
    applies, else a string saying why it does not (the quote explains every rule considered)."""

    name: str
    label: str
    schema: type[Schema]
    evaluate: Callable[[Any, dict[str, Any]], Adjustment | str]
    order: int = 100
    module: str = ""
