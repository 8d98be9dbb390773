"""Demo pricing policy: a realistic set of rules over the demo catalogue and clients.

Thresholds fit the demo invoices (a demo client's quarter is some 350 to 20,000 EUR), so that
clients fall on every side of a tier. Deterministic (a seeded ``random.Random``); validity dates
relative to today in the installation's time zone. Runs after crm_contacts' and crm_sales' demo
data (dependency order) and uses what they created: without products or groups it writes only the
rules that need none.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import hookimpl
from core.timezone import local_today
from crm_contacts.models import Client, CustomerGroup
from crm_pricing.kinds import (
    CUSTOMER_GROUP_DISCOUNT,
    EARLY_PAYMENT,
    FIXED_PRICE,
    GROUP_PURCHASE,
    PRODUCT_GROUP_DISCOUNT,
    QUANTITY_BREAKS,
    TURNOVER_TIERS,
)
from crm_pricing.models import DiscountCap, PricingRule
from crm_sales.models import Product, ProductGroup

SEED = 8
MARKER = "Quarterly turnover tiers"


def _rule(name: str, kind: str, params: dict, **fields) -> PricingRule:
    rule = PricingRule(name=name, kind=kind, **fields)
    rule.params = params
    return rule


def _tiers(*pairs) -> list[dict]:
    return [{"threshold": t, "percent": p} for t, p in pairs]


@hookimpl
def crm_demo_data(session: Session, scale: int) -> None:
    if session.scalar(select(PricingRule.id).where(PricingRule.name == MARKER)) is not None:
        return  # the demo policy is there already
    rng = random.Random(SEED)
    today = local_today()
    groups = list(session.scalars(select(CustomerGroup).order_by(CustomerGroup.id)))
    product_groups = list(
        session.scalars(select(ProductGroup).order_by(ProductGroup.path, ProductGroup.id))
    )
    roots = [g for g in product_groups if g.parent_id is None] or product_groups
    rules = [
        _rule(MARKER, TURNOVER_TIERS,
              {"period": "quarter", "basis": "last_completed",
               "tiers": _tiers((2500, 1), (5000, 2), (10000, 3), (25000, 5))},
              priority=50),
        _rule("Early payment 2 %", EARLY_PAYMENT, {"days": 10, "percent": 2}, priority=70),
        _rule("Quantity breaks", QUANTITY_BREAKS,
              {"tiers": _tiers((50, 1), (200, 2), (500, 3))}, priority=40),
    ]  # fmt: skip
    session.add(DiscountCap(customer_group_id=None, percent=Decimal("25.00")))
    if groups:
        wholesale = next((g for g in groups if "whole" in g.name.lower()), groups[0])
        session.add(DiscountCap(customer_group_id=wholesale.id, percent=Decimal("30.00")))
        rules.append(
            _rule(f"{wholesale.name}: group discount", CUSTOMER_GROUP_DISCOUNT, {"percent": 3},
                  customer_group_id=wholesale.id, priority=30)
        )  # fmt: skip
        rules.append(
            _rule(f"{wholesale.name}: rolling annual turnover", TURNOVER_TIERS,
                  {"period": "year", "basis": "rolling",
                   "tiers": _tiers((20000, 1), (50000, 2))},
                  customer_group_id=wholesale.id, priority=55)
        )  # fmt: skip
    if roots:
        promo = rng.choice(roots)
        rules.append(
            _rule(f"Seasonal promotion {promo.name}", PRODUCT_GROUP_DISCOUNT, {"percent": 8},
                  product_group_id=promo.id, mode="exclusive", priority=20,
                  valid_from=today - timedelta(days=14), valid_to=today + timedelta(days=45))
        )  # fmt: skip
    if len(roots) >= 2:
        source, target = rng.sample(roots, 2)
        rules.append(
            _rule(f"Buy {source.name}, save on {target.name}", GROUP_PURCHASE,
                  {"period": "half_year", "basis": "last_completed", "group_ids": [source.id],
                   "measure": "amount", "threshold": 1500, "percent": 2,
                   "target_group_ids": [target.id]},
                  priority=60)
        )  # fmt: skip
    product_count = session.scalar(select(func.count()).select_from(Product)) or 0
    client_ids = list(session.scalars(select(Client.id).order_by(Client.id).limit(20 * scale)))
    if product_count and client_ids:
        products = list(
            session.execute(
                select(Product.id, Product.code, Product.list_price)
                .where(Product.active.is_(True))
                .order_by(Product.id)
                .limit(200)
            )
        )
        for client_id in rng.sample(client_ids, min(len(client_ids), 5 * scale)):
            pid, code, list_price = rng.choice(products)
            fixed = (Decimal(list_price) * Decimal(rng.randint(85, 95)) / 100).quantize(
                Decimal("0.01")
            )
            rules.append(
                _rule(f"Contract price {code}", FIXED_PRICE, {"price": str(fixed)},
                      client_id=client_id, product_id=pid, priority=10,
                      valid_from=today - timedelta(days=rng.randint(30, 200)),
                      valid_to=today + timedelta(days=rng.randint(60, 300)))
            )  # fmt: skip
    session.add_all(rules)
    session.flush()
    # The demo's tiers are there for reports at once, not only after tomorrow morning's job.
    from crm_pricing.tiers import refresh

    refresh(session, today)
