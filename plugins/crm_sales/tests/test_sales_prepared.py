"""The turnover statements run on the session's connection (``crm_sales.prepared``): the same
figures whether or not something watches the engine's statements, in the session's transaction,
one statement per figure, database errors as SQLAlchemy's. ``book`` is in conftest.py."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import column, exc, select, table

from core.db import db_session
from crm_sales.analysis import client_analysis, table_rows
from crm_sales.documents import DocumentData, LineData, write_document
from crm_sales.models import Product
from crm_sales.prepared import Prepared
from crm_sales.turnover import (
    average_days_to_payment,
    monthly,
    turnover,
    turnover_by_client,
    turnover_by_period,
)

YEAR = (date(2025, 1, 1), date(2025, 12, 31))
BOTH = (date(2025, 1, 1), date(2026, 12, 31))


def figures(ids) -> list:
    """Every shape of statement the service has: one client, several (IN lists of three
    lengths), a customer group, everything; product groups; months, quarters, quantities."""
    s, acme, bolt, other = db_session, ids["acme"], ids["bolt"], ids["other"]
    return [
        turnover(s, [acme], *YEAR),
        turnover(s, (acme,), *YEAR, [ids["food"]]),
        turnover(s, [acme], *YEAR, [ids["cheese"], ids["tools"]]),
        turnover(s, [acme], *YEAR, quantity=True),
        turnover(s, [acme, bolt], *YEAR),
        turnover(s, None, *YEAR, customer_group_id=ids["wholesale"]),
        turnover(s, None, *YEAR),
        turnover_by_client(s, [acme, bolt, other], *YEAR),
        turnover_by_client(s, [bolt, other], *YEAR),
        turnover_by_client(s, [other], *YEAR),
        turnover_by_period(s, [acme], *BOTH, "quarter"),
        turnover_by_period(s, [acme], *BOTH, "half", quantity=True),
        monthly(s, [acme], *BOTH),
        average_days_to_payment(s, acme),
        table_rows(client_analysis(s, acme, 2026, on=date(2026, 6, 15))),
    ]


def test_the_figures_are_the_same_whether_or_not_statements_are_watched(book, count_queries):
    with book.app_context():
        unwatched = figures(book.ids)
        with count_queries(book) as statements:
            watched = figures(book.ids)
    assert watched == unwatched
    assert unwatched[0] == Decimal("36.00") and unwatched[4] == Decimal("136.00")
    assert unwatched[7] == {
        book.ids["acme"]: Decimal("36.00"),
        book.ids["bolt"]: Decimal("100.00"),
        book.ids["other"]: Decimal("1000.00"),
    }
    assert unwatched[9] == {book.ids["other"]: Decimal("1000.00")}
    # one statement per figure, eight for the analysis
    assert len(statements) == 14 + 8


def test_the_analysis_runs_eight_statements_whatever_the_history(book, count_queries):
    with book.app_context():
        client_analysis(db_session, book.ids["acme"], 2026, on=date(2026, 6, 15))  # warm up
        with count_queries(book) as busy:
            client_analysis(db_session, book.ids["acme"], 2026, on=date(2026, 6, 15))
        with count_queries(book) as quiet:
            client_analysis(db_session, book.ids["bolt"], 2026, on=date(2026, 6, 15))
    # Bolt bought nothing in 2026: no top products, so no names nor last year's figures
    assert len(busy) == 8 and len(quiet) == 6


def test_the_figures_are_those_of_the_sessions_transaction(book):
    acme = book.ids["acme"]
    with book.app_context():
        milk = db_session.scalar(select(Product).where(Product.code == "MILK"))
        assert turnover(db_session, [acme], *YEAR) == Decimal("36.00")
        write_document(
            db_session,
            DocumentData(number="I-9", kind="invoice", client_id=acme, date=date(2025, 5, 5),
                         lines=[LineData(milk, Decimal("5"), Decimal("2"), Decimal("0"))]),
        )  # fmt: skip
        db_session.flush()
        assert turnover(db_session, [acme], *YEAR) == Decimal("46.00")  # not committed yet
        db_session.rollback()
        assert turnover(db_session, [acme], *YEAR) == Decimal("36.00")
        write_document(
            db_session,
            DocumentData(number="I-9", kind="invoice", client_id=acme, date=date(2025, 5, 5),
                         lines=[LineData(milk, Decimal("1"), Decimal("2"), Decimal("0"))]),
        )  # fmt: skip
        db_session.commit()
        assert turnover(db_session, [acme], *YEAR) == Decimal("38.00")  # a new transaction
        db_session.close()
        assert turnover(db_session, [acme], *YEAR) == Decimal("38.00")  # a new session


def test_database_errors_are_raised_as_sqlalchemy_errors(book):
    broken = Prepared(select(column("x")).select_from(table("crm_sales_no_such_table")))
    with book.app_context():
        with pytest.raises(exc.DBAPIError):
            broken.rows(db_session, {})
        db_session.rollback()
        assert turnover(db_session, [book.ids["acme"]], *YEAR) == Decimal("36.00")
