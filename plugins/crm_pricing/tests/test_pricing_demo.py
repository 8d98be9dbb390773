"""The demo pricing policy: written once (a second run adds nothing), deterministic, and every
rule of it valid for its kind and usable in a quote."""

from __future__ import annotations

import json

from sqlalchemy import select

from core.cli import main as crm
from core.db import db_session
from core.testing import logged_in, make_user
from crm_contacts.models import Client
from crm_pricing.kinds import BUNDLED_KINDS
from crm_pricing.models import DiscountCap, PricingRule
from crm_sales.models import Product

KINDS = {k.name: k for k in BUNDLED_KINDS}


def _policy(app):
    with app.app_context():
        rules = db_session.scalars(select(PricingRule).order_by(PricingRule.id)).all()
        return [(r.name, r.kind, r.params_json, r.client_id, r.product_id) for r in rules]


def test_demo_rules_are_valid_and_priced(crm_app_factory):
    app = crm_app_factory(["crm_pricing"])
    result = app.test_cli_runner().invoke(crm, ["demo"])
    assert result.exit_code == 0, result.output
    policy = _policy(app)
    assert len(policy) >= 3
    for _, kind, params, _, _ in policy:
        KINDS[kind].schema().load(json.loads(params))  # raises if a demo rule is not valid
    with app.app_context():
        assert db_session.scalar(select(DiscountCap.percent).where(
            DiscountCap.customer_group_id.is_(None))) is not None  # fmt: skip
        client_id = db_session.scalar(select(Client.id).order_by(Client.id))
        product_id = db_session.scalar(select(Product.id).order_by(Product.id))

    again = app.test_cli_runner().invoke(crm, ["demo"])
    assert again.exit_code == 0, again.output
    assert _policy(app) == policy

    if product_id is not None:
        make_user(app, "root", groups=("admin",))
        answer = logged_in(app, "root").post("/api/v1/pricing/quote", json={
            "client_id": client_id, "product_id": product_id, "quantity": 100})  # fmt: skip
        assert answer.status_code == 200, answer.get_json()
        quote = answer.get_json()
        considered = len(quote["adjustments"]) + len(quote["not_applied"])
        assert considered >= 3
