"""Clients per turnover tier: the standing written down for reports (crm_pricing.tiers) is the
tier a quote would give, for the clients each rule concerns."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import time_machine
from pricing_helpers import NOW
from sqlalchemy import select

from core.db import db_session
from crm_pricing.kinds import TURNOVER_TIERS
from crm_pricing.models import ClientTier, PricingRule
from crm_pricing.tiers import refresh

TIERS = [{"threshold": 50000, "percent": 3}, {"threshold": 100000, "percent": 5}]


def _rule(name: str, **fields) -> PricingRule:
    rule = PricingRule(name=name, kind=TURNOVER_TIERS, **fields)
    rule.params = {"period": "quarter", "basis": "last_completed", "group_ids": [],
                   "tiers": TIERS}  # fmt: skip
    return rule


def _standing() -> dict:
    rows = db_session.execute(
        select(PricingRule.name, ClientTier.client_id, ClientTier.tier, ClientTier.percent,
               ClientTier.turnover, ClientTier.period)
        .join(PricingRule, PricingRule.id == ClientTier.rule_id)
    )  # fmt: skip
    return {(name, client): (tier, percent, turnover, period)
            for name, client, tier, percent, turnover, period in rows}  # fmt: skip


def test_each_rules_clients_get_the_tier_of_their_basis_period(shop):
    ids = shop.ids
    with time_machine.travel(NOW, tick=False), shop.app_context():
        everyone = _rule("Everyone's tiers")
        wholesale = _rule("Wholesale tiers", customer_group_id=ids.wholesale)
        kalinas = _rule("Kalina's tiers", client_id=ids.kalina)
        ended = _rule("Ended tiers", valid_to=date(2026, 9, 30))
        inactive = _rule("Inactive tiers", active=False)
        db_session.add_all([everyone, wholesale, kalinas, ended, inactive])
        db_session.flush()
        assert refresh(db_session, date(2026, 11, 26)) == 4
        standing = _standing()
    # Bioprom's Q3 2026: 62,000.00 invoiced less 800.00 credited; Kalina bought nothing.
    reached = ("1. from 50,000.00: 3 %", Decimal("3.00"), Decimal("61200.00"), "Q3 2026")
    below = ("0. below 50,000.00", None, Decimal("0.00"), "Q3 2026")
    assert standing == {
        ("Everyone's tiers", ids.bioprom): reached,
        ("Everyone's tiers", ids.kalina): below,
        ("Wholesale tiers", ids.bioprom): reached,
        ("Kalina's tiers", ids.kalina): below,
    }


def test_a_refresh_replaces_the_standing_of_the_day_before(shop):
    with time_machine.travel(NOW, tick=False), shop.app_context():
        db_session.add(_rule("Everyone's tiers"))
        db_session.flush()
        refresh(db_session, date(2026, 11, 26))
        # On 2 January the last completed quarter is Q4 2026: 61,200.00 so far, 3 % again,
        # and the rows of the day before are gone, not added to.
        assert refresh(db_session, date(2027, 1, 2)) == 2
        periods = set(db_session.scalars(select(ClientTier.period)))
        computed = set(db_session.scalars(select(ClientTier.computed_on)))
    assert periods == {"Q4 2026"} and computed == {date(2027, 1, 2)}
