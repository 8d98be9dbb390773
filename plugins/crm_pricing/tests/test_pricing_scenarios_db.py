"""The scenario table again, through the database: the rules stored as managers store them (their
parameters as JSON, validity dates, products and groups as foreign keys), loaded by a
``PricingRun`` as quotes load them, on SQLite and (with ``CRM_TEST_DATABASE_URL``) PostgreSQL.

Only the turnover comes from the scenario's figures instead of invoices, so that each row keeps
its hand-computed numbers; ``test_pricing_quote_api.py`` prices from real invoices.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from pricing_helpers import ON, Turnover
from test_pricing_scenarios import SCENARIOS, Scenario, check

from core.db import db_session
from crm_contacts.models import Client, CustomerGroup
from crm_pricing.kinds import BUNDLED_KINDS
from crm_pricing.models import DiscountCap, PricingRule
from crm_pricing.service import PricingRun, load_products
from crm_sales.models import Product, ProductGroup

KINDS = {k.name: k for k in BUNDLED_KINDS}


def _catalogue() -> None:
    """The ids the scenarios name: client 1 (of a customer group); product 7 (P-7) in group 4 under
    group 1; product 8; groups 3, 5 and 9 (Ink)."""
    db_session.add(CustomerGroup(id=99, name="Scenario group"))
    db_session.add(Client(id=1, name="Scenario client", customer_group_id=99))
    for gid, parent, name in ((1, None, "group 1"), (3, None, "group 3"), (5, None, "group 5"),
                              (9, None, "Ink"), (4, 1, "group 4")):  # fmt: skip
        db_session.add(ProductGroup(id=gid, code=f"G{gid}", name=name, parent_id=parent))
        db_session.flush()
    db_session.add(Product(id=7, code="P-7", name="Paper", list_price=Decimal(100), group_id=4))
    db_session.add(Product(id=8, code="P-8", name="Other", list_price=Decimal(100), group_id=9))
    db_session.flush()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_scenario_through_the_database(crm_app_factory, scenario: Scenario):
    app = crm_app_factory(["crm_pricing"])
    with app.app_context():
        _catalogue()
        product = db_session.get(Product, 7)
        product.list_price = Decimal(str(scenario.ctx.get("list_price", "100.00")))
        product.currency = scenario.ctx.get("currency", "BGN")
        for rule in scenario.rules:
            record = PricingRule(
                name=rule.name, kind=rule.kind, mode=rule.mode, priority=rule.priority,
                product_id=rule.product_id, product_group_id=rule.product_group_id,
                valid_from=rule.valid_from, valid_to=rule.valid_to,
            )  # fmt: skip
            record.params_json = json.dumps(dict(rule.params), default=str)
            db_session.add(record)
        if scenario.cap:
            db_session.add(DiscountCap(customer_group_id=None, percent=Decimal(scenario.cap)))
        db_session.commit()

        run = PricingRun(db_session, 1, scenario.ctx.get("on", ON), kinds=KINDS)
        run.turnover = Turnover(scenario.turnover)
        (row,) = load_products(db_session, ids=[7])
        result = run.price(
            row, Decimal(str(scenario.ctx.get("quantity", 10))), scenario.ctx.get("payment_days")
        )
        check(scenario, result)
