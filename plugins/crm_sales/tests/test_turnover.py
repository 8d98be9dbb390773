"""The turnover service against a small set of documents whose figures are worked out by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.db import db_session
from crm_sales.models import Product, ProductGroup, SalesLine
from crm_sales.turnover import (
    Period,
    average_days_to_payment,
    turnover,
    turnover_by_client,
    turnover_by_period,
)

D = Decimal


def test_group_paths_are_materialised_and_follow_a_move(book):
    with book.app_context():
        groups = {g.code: g for g in db_session.scalars(select(ProductGroup))}
        ids = book.ids
        assert groups["CHEESE"].path == f"/{ids['food']}/{ids['dairy']}/{ids['cheese']}/"
        assert groups["CHEESE"].ancestor_ids == (ids["food"], ids["dairy"], ids["cheese"])
        groups["DAIRY"].parent = groups["TOOLS"]
        db_session.commit()
        db_session.expire_all()
        cheese = db_session.get(ProductGroup, ids["cheese"])
        assert cheese.path == f"/{ids['tools']}/{ids['dairy']}/{ids['cheese']}/"
        dairy = db_session.get(ProductGroup, ids["dairy"])
        dairy.parent = cheese
        with pytest.raises(ValueError, match="own subgroups"):
            db_session.flush()
        db_session.rollback()


def test_turnover_matches_the_hand_computation(book):
    ids = book.ids
    year = (date(2025, 1, 1), date(2025, 12, 31))
    with book.app_context():
        s = db_session
        # 12.00 + 13.50 + 18.00 - 7.50
        assert turnover(s, [ids["acme"]], *year) == D("36.00")
        assert turnover(s, [ids["acme"]], date(2025, 1, 15), date(2025, 1, 15)) == D("12.00")
        # Dairy and its subgroup Cheese: 12.00 + 13.50 - 7.50
        assert turnover(s, [ids["acme"]], *year, [ids["dairy"]]) == D("18.00")
        assert turnover(s, [ids["acme"]], *year, [ids["food"]]) == D("18.00")
        assert turnover(s, [ids["acme"]], *year, [ids["cheese"]]) == D("6.00")
        assert turnover(s, [ids["acme"]], *year, [ids["cheese"], ids["tools"]]) == D("24.00")
        assert turnover(s, [ids["acme"]], *year, quantity=True) == D("12.0000")
        assert turnover(s, [ids["acme"], ids["bolt"]], *year) == D("136.00")
        assert turnover(s, None, *year, customer_group_id=ids["wholesale"]) == D("136.00")
        assert turnover(s, None, *year) == D("1136.00")
        assert turnover(s, [], *year) == D("0.00")
        assert turnover_by_client(s, None, *year) == {
            ids["acme"]: D("36.00"), ids["bolt"]: D("100.00"), ids["other"]: D("1000.00")
        }  # fmt: skip


def test_turnover_by_period(book):
    acme = [book.ids["acme"]]
    with book.app_context():
        quarters = turnover_by_period(db_session, acme, date(2025, 1, 1), date(2026, 12, 31),
                                      "quarter")  # fmt: skip
        assert len(quarters) == 8
        assert quarters[Period("quarter", 2025, 1)] == D("18.00")  # 12.00 + 13.50 - 7.50
        assert quarters[Period("quarter", 2025, 3)] == D("18.00")
        assert quarters[Period("quarter", 2026, 1)] == D("122.50")
        assert quarters[Period("quarter", 2025, 2)] == D("0.00")
        months = turnover_by_period(db_session, acme, date(2025, 1, 1), date(2025, 12, 31))
        assert months[Period("month", 2025, 2)] == D("6.00")
        halves = turnover_by_period(db_session, acme, date(2025, 1, 1), date(2025, 12, 31), "half")
        assert list(halves.values()) == [D("18.00"), D("18.00")]
        years = turnover_by_period(db_session, acme, date(2025, 1, 1), date(2026, 12, 31), "year")
        assert list(years.values()) == [D("36.00"), D("122.50")]


def test_average_days_to_payment_weights_by_amount(book):
    with book.app_context():
        # I-1: 12.00 after 10 days; I-2: 6.75 after 30 and 6.75 after 50 days
        # (12*10 + 6.75*30 + 6.75*50) / 25.50 = 660 / 25.5 = 25.88...
        assert average_days_to_payment(db_session, book.ids["acme"]) == D("25.9")
        assert average_days_to_payment(db_session, book.ids["bolt"]) is None


def test_lines_follow_their_product_into_another_group(book):
    with book.app_context():
        milk = db_session.scalar(select(Product).where(Product.code == "MILK"))
        milk.group_id = book.ids["tools"]
        db_session.commit()
        lines = select(SalesLine.group_id).where(SalesLine.product_id == milk.id)
        groups = set(db_session.scalars(lines))
        assert groups == {book.ids["tools"]}
