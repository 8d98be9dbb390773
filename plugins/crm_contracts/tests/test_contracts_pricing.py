"""The rule kind "contract conditions", tested directly with pricing contexts built by hand (the
cross-module quote tests are crm_pricing's): negotiated prices by product code, discounts by the
nearest product group, validity of contracts and conditions, and bounded queries."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from core.db import db_session
from core.pricing import Adjustment, PricingContext
from crm_contracts.models import Condition, Contract
from crm_contracts.numbering import next_number
from crm_contracts.pricing import evaluate, load_terms, prepare

TODAY = date(2026, 12, 1)


def context(client_id, on=TODAY, product="MLK-1L", groups=("MILK", "DAIRY", "FOOD"), session=None):
    return PricingContext(
        client_id=client_id,
        customer_group_id=None,
        product_id=7,
        product_code=product,
        product_group_ids=tuple(range(1, len(groups) + 1)),
        product_group_codes=tuple(groups),
        quantity=Decimal("500"),
        on=on,
        payment_days=10,
        list_price=Decimal("1.50"),
        currency="EUR",
        turnover=lambda *args, **kwargs: Decimal("0"),
        session=session,
    )


def contract(client_id, *conditions, start=TODAY - timedelta(days=30), days=364, signed=True,
             terminated_on=None) -> Contract:  # fmt: skip
    found = Contract(
        number=next_number(db_session),
        client_id=client_id,
        title="Supply",
        signed_on=start if signed else None,
        valid_from=start,
        valid_to=start + timedelta(days=days),
        terminated_on=terminated_on,
        conditions=list(conditions),
    )
    db_session.add(found)
    db_session.flush()
    return found


def discount(group, percent, **dates) -> Condition:
    return Condition(kind="discount", group_code=group, discount_percent=Decimal(percent), **dates)


def price(product, amount, **dates) -> Condition:
    return Condition(kind="price", product_code=product, price=Decimal(amount), **dates)


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app.ids
        db_session.rollback()


def run(client_id, on=TODAY, **kwargs):
    prepared = prepare(db_session, (client_id,), on)
    return evaluate(context(client_id, on, **kwargs), {"_prepared": prepared})


def test_the_nearest_group_wins_and_a_product_price_beats_any_group(ctx):
    contract(ctx.bioprom, discount("FOOD", "2"), discount("DAIRY", "5"))
    found = run(ctx.bioprom)
    assert isinstance(found, Adjustment) and found.discount_percent == Decimal("5.00")
    assert found.base_price is None
    contract(ctx.bioprom, price("MLK-1L", "1.1990"))
    found = run(ctx.bioprom)
    assert found.base_price == Decimal("1.1990") and found.discount_percent is None
    assert "negotiated price" in found.reason
    other = run(ctx.bioprom, product="YOG-400", groups=("YOGHURT", "DAIRY"))
    assert other.discount_percent == Decimal("5.00")
    assert run(ctx.bioprom, product="DET-3L", groups=("CLEAN",)).startswith("no contract")


def test_only_contracts_in_force_and_conditions_valid_that_day_count(ctx):
    contract(ctx.bioprom, discount("DAIRY", "5"), signed=False)  # a draft
    contract(ctx.bioprom, discount("DAIRY", "6"), start=TODAY + timedelta(days=100))  # not yet
    contract(ctx.bioprom, discount("DAIRY", "7"), start=TODAY - timedelta(days=400))  # ended
    assert isinstance(run(ctx.bioprom), str)
    contract(
        ctx.bioprom,
        discount("DAIRY", "4", valid_from=TODAY + timedelta(days=10)),
        discount("FOOD", "1", valid_to=TODAY + timedelta(days=5)),
    )
    assert run(ctx.bioprom).discount_percent == Decimal("1.00")
    assert run(ctx.bioprom, on=TODAY + timedelta(days=10)).discount_percent == Decimal("4.00")
    # Another client's contract gives this client nothing.
    contract(ctx.agrotech, discount("MILK", "9"))
    assert run(ctx.bioprom).discount_percent == Decimal("1.00")


def test_a_contract_terminated_early_stops_from_its_termination_date(ctx):
    stop = TODAY + timedelta(days=20)
    contract(ctx.bioprom, discount("DAIRY", "5"), terminated_on=stop)
    assert run(ctx.bioprom, on=stop - timedelta(days=1)).discount_percent == Decimal("5.00")
    assert isinstance(run(ctx.bioprom, on=stop), str)


def test_the_newest_contract_supersedes_an_older_one(ctx):
    contract(ctx.bioprom, discount("DAIRY", "3"), start=TODAY - timedelta(days=200))
    newer = contract(ctx.bioprom, discount("DAIRY", "8"), start=TODAY - timedelta(days=10))
    found = run(ctx.bioprom)
    assert found.discount_percent == Decimal("8.00") and newer.number in found.reason


def test_prepare_loads_many_clients_in_one_query(app, count_queries):
    with app.app_context():
        contract(app.ids.bioprom, discount("DAIRY", "5"))
        contract(app.ids.agrotech, price("MLK-1L", "1"))
        db_session.commit()
        with count_queries(app) as statements:
            prepared = prepare(db_session, (app.ids.bioprom, app.ids.agrotech, 999), TODAY)
        assert [s for s in statements if s != "BEGIN"] == statements[-1:]
        assert prepared[999].prices == {} and "MLK-1L" in prepared[app.ids.agrotech].prices
        # Without a prepare, evaluate loads the one client through the context's session.
        found = evaluate(context(app.ids.bioprom, session=db_session), {})
        assert found.discount_percent == Decimal("5.00")
        assert load_terms(db_session, (), TODAY) == {}
