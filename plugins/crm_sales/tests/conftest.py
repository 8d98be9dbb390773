"""Shared by crm_sales' tests: ``shop``, an installation with a small catalogue and two clients
of two representatives; ``book``, documents whose turnover figures are worked out by hand. The
count of SQL statements is core.testing's ``count_queries``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from flask import Flask

from core.db import db_session
from core.testing import make_user
from crm_contacts.models import Client, CustomerGroup
from crm_sales.documents import DocumentData, LineData, PaymentData, write_document
from crm_sales.models import Product, ProductGroup

D = Decimal


@pytest.fixture
def shop(crm_app_factory) -> Flask:
    """crm_sales installed; users maria and peter (representatives), georgi (manager), bo (back
    office); clients Acme (maria's, VAT BG111111111) and Bolt (peter's); groups Food > Dairy and
    Tools; products MILK, CHEESE (Dairy) and SAW (Tools)."""
    app = crm_app_factory(["crm_sales"])
    ids = SimpleNamespace(
        maria=make_user(app, "maria", groups=("sales_rep",)),
        peter=make_user(app, "peter", groups=("sales_rep",)),
        georgi=make_user(app, "georgi", groups=("sales_manager",)),
        bo=make_user(app, "bo", groups=("back_office",)),
    )
    with app.app_context():
        acme = Client(name="Acme", vat_number="BG111111111", responsible_id=ids.maria)
        bolt = Client(name="Bolt", vat_number="BG222222222", responsible_id=ids.peter)
        food = ProductGroup(code="FOOD", name="Food")
        dairy = ProductGroup(code="DAIRY", name="Dairy", parent=food)
        tools = ProductGroup(code="TOOLS", name="Tools")
        db_session.add_all([acme, bolt, food, dairy, tools])
        db_session.add_all(
            [
                Product(code="MILK", name="Milk", list_price=Decimal("1.20"), group=dairy),
                Product(code="CHEESE", name="Cheese", list_price=Decimal("8"), group=dairy),
                Product(code="SAW", name="Saw", list_price=Decimal("20"), group=tools),
            ]
        )
        db_session.commit()
        ids.acme, ids.bolt = acme.id, bolt.id
        ids.food, ids.dairy, ids.tools = food.id, dairy.id, tools.id
    app.ids = ids
    return app


@pytest.fixture
def book(crm_app_factory):
    """Groups Food (/F/) > Dairy (/F/D/) > Cheese; Tools. Two clients of the group Wholesale."""
    app = crm_app_factory(["crm_sales"])
    with app.app_context():
        wholesale = CustomerGroup(name="Test wholesale")
        acme = Client(name="Acme", customer_group=wholesale)
        bolt = Client(name="Bolt", customer_group=wholesale)
        other = Client(name="Other")
        food = ProductGroup(code="FOOD", name="Food")
        dairy = ProductGroup(code="DAIRY", name="Dairy", parent=food)
        cheese = ProductGroup(code="CHEESE", name="Cheese", parent=dairy)
        tools = ProductGroup(code="TOOLS", name="Tools")
        milk = Product(code="MILK", name="Milk", list_price=D("1.20"), group=dairy)
        brie = Product(code="BRIE", name="Brie", list_price=D("7.50"), group=cheese)
        saw = Product(code="SAW", name="Saw", list_price=D("20"), group=tools)
        db_session.add_all([acme, bolt, other, food, dairy, cheese, tools, milk, brie, saw])
        db_session.flush()

        def doc(number, client, day, lines, kind="invoice", rate="1", payments=()):
            write_document(
                db_session,
                DocumentData(
                    number=number,
                    kind=kind,
                    client_id=client.id,
                    date=day,
                    rate=D(rate),
                    currency="EUR" if rate == "1" else "USD",
                    lines=[LineData(p, D(q), D(u), D(disc)) for p, q, u, disc in lines],
                    payments=[PaymentData(d, D(a)) for d, a in payments],
                ),
            )

        # Acme 2025: Jan 10 x milk 1.20 = 12.00; Feb 2 x brie 7.50 -10% = 13.50;
        # Jul 1 saw 20.00 in USD at 0.9 = 18.00. Credit note Feb: 1 brie 7.50 -> -7.50.
        doc(
            "I-1",
            acme,
            date(2025, 1, 15),
            [(milk, "10", "1.20", "0")],
            payments=[(date(2025, 1, 25), "12.00")],
        )
        doc(
            "I-2",
            acme,
            date(2025, 2, 3),
            [(brie, "2", "7.50", "10")],
            payments=[(date(2025, 3, 5), "6.75"), (date(2025, 3, 25), "6.75")],
        )
        doc("I-3", acme, date(2025, 7, 1), [(saw, "1", "20", "0")], rate="0.9")
        doc("C-1", acme, date(2025, 2, 20), [(brie, "1", "7.50", "0")], kind="credit_note")
        # Acme 2026: Mar 100 x milk at 1.00 = 100.00 and 3 brie at 7.50 = 22.50
        doc("I-4", acme, date(2026, 3, 31), [(milk, "100", "1", "0"), (brie, "3", "7.50", "0")])
        # Bolt 2025: Jan 5 saw = 100.00; Other: 1000.00 of milk, never counted for Acme/Bolt
        doc("I-5", bolt, date(2025, 1, 31), [(saw, "5", "20", "0")])
        doc("I-6", other, date(2025, 1, 31), [(milk, "1000", "1", "0")])
        db_session.commit()
        app.ids = {
            "acme": acme.id, "bolt": bolt.id, "other": other.id, "wholesale": wholesale.id,
            "food": food.id, "dairy": dairy.id, "cheese": cheese.id, "tools": tools.id,
        }  # fmt: skip
        yield app
