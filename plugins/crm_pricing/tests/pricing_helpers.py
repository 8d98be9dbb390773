"""Building blocks of the engine's tests: a pricing context built by hand, with turnover from a
dict, and rules whose parameters went through their kind's schema as the service loads them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from core.pricing import PricingContext
from crm_pricing.engine import Rule
from crm_pricing.kinds import BUNDLED_KINDS

KINDS = {k.name: k for k in BUNDLED_KINDS}
ON = date(2026, 11, 26)
#: The moment the tests through the stack run at (the clock is moved with time-machine).
NOW = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)


def rule_params_form(kind: str, params: dict[str, Any]) -> dict[str, Any]:
    """A kind's parameters as the rule form's generated inputs post them
    (``params[<kind>].tiers.0.threshold``; a list of ids as repeated values)."""
    prefix = f"params[{kind}]."
    out: dict[str, Any] = {}

    def walk(value: Any, name: str) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(sub, f"{name}.{key}" if name else key)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for index, item in enumerate(value):
                walk(item, f"{name}.{index}")
        elif isinstance(value, list):
            out[prefix + name] = [str(v) for v in value]
        else:
            out[prefix + name] = str(value)

    walk(params, "")
    return out


def add_products(count: int, group: Any, start: int = 0) -> list:
    """``count`` more products in ``group`` (within an app context)."""
    from core.db import db_session
    from crm_sales.models import Product

    products = [
        Product(code=f"X-{start + i:05d}", name=f"Extra product {start + i}",
                list_price=Decimal("4.99") + i % 7, currency="EUR", group=group)
        for i in range(count)
    ]  # fmt: skip
    db_session.add_all(products)
    return products


class Turnover:
    """Turnover ``{(start, end, groups or None, quantity): amount}``; unknown periods are 0.
    ``calls`` records every lookup (the service caches them; the engine does not need to)."""

    def __init__(self, figures: dict[tuple, Any] | None = None) -> None:
        self.figures = {k: Decimal(str(v)) for k, v in (figures or {}).items()}
        self.calls: list[tuple] = []

    def __call__(self, start, end, product_group_ids=None, *, quantity=False) -> Decimal:
        key = (start, end, tuple(product_group_ids) if product_group_ids else None, quantity)
        self.calls.append(key)
        return self.figures.get(key, Decimal(0))


def context(**overrides: Any) -> PricingContext:
    values: dict[str, Any] = {
        "client_id": 1,
        "customer_group_id": 2,
        "product_id": 7,
        "product_code": "P-7",
        "product_group_ids": (4, 1),
        "product_group_codes": ("PAPER-A4", "PAPER"),
        "quantity": Decimal(10),
        "on": ON,
        "payment_days": None,
        "list_price": Decimal("100.00"),
        "currency": "BGN",
        "turnover": Turnover(),
    }
    values.update(overrides)
    for name in ("quantity", "list_price"):
        values[name] = Decimal(str(values[name]))
    return PricingContext(**values)


_ids = iter(range(1, 1_000_000))


def rule(kind: str, params: dict[str, Any], **fields: Any) -> Rule:
    """A rule of ``kind`` (short name, e.g. ``"early_payment"``), its params through the schema."""
    name = kind if "." in kind else f"crm_pricing.{kind}"
    loaded = KINDS[name].schema().load(params) if name in KINDS else dict(params)
    fields.setdefault("id", next(_ids))
    fields.setdefault("name", f"{kind} {fields['id']}")
    return Rule(kind=name, params=loaded, **fields)
