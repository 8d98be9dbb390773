"""Shared by crm_pricing's tests that run through the whole stack: a small shop at a fixed moment
(26 Nov 2026), with a catalogue, two clients and their invoices written through crm_sales, a
manager and two representatives. (SQL statements are counted with core.testing's count_queries.)"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
import time_machine
from flask import Flask
from pricing_helpers import NOW
from sqlalchemy import select

from core.db import db_session
from core.testing import make_user
from crm_contacts.models import Client, CustomerGroup
from crm_sales.documents import DocumentData, LineData, write_document
from crm_sales.models import Product, ProductGroup

D = Decimal


@pytest.fixture
def shop(crm_app_factory) -> Iterator[Flask]:
    """Bioprom (maria's, Wholesale, pays in 30 days) bought net 61,200.00 in Q3 2026 (62,000.00
    invoiced, 800.00 credited) and 61,200.00 so far in Q4; Kalina (peter's) bought nothing."""
    with time_machine.travel(NOW, tick=False):
        app = crm_app_factory(["crm_pricing"])
        ids = SimpleNamespace(
            maria=make_user(app, "maria", groups=("sales_rep",)),
            peter=make_user(app, "peter", groups=("sales_rep",)),
            georgi=make_user(app, "georgi", groups=("sales_manager",)),
        )
        with app.app_context():
            # crm_contacts installs the usual groups (Wholesale among them)
            wholesale = db_session.scalar(
                select(CustomerGroup).where(CustomerGroup.name == "Wholesale")
            )
            bioprom = Client(name="Bioprom", customer_group=wholesale, responsible_id=ids.maria,
                             payment_term_days=30, status="active")  # fmt: skip
            kalina = Client(name="Kalina", responsible_id=ids.peter, status="active")
            paper = ProductGroup(code="PAPER", name="Paper")
            a4 = ProductGroup(code="PAPER-A4", name="Paper A4", parent=paper)
            ink = ProductGroup(code="INK", name="Ink")
            pap = Product(code="PAP-A4", name="Copy paper A4", list_price=D("10.00"),
                          currency="EUR", group=a4)  # fmt: skip
            cart = Product(code="INK-BK", name="Black cartridge", list_price=D("25.00"),
                           currency="EUR", group=ink)  # fmt: skip
            db_session.add_all([wholesale, bioprom, kalina, paper, a4, ink, pap, cart])
            db_session.flush()

            def invoice(number, day, product, quantity, price, kind="invoice"):
                write_document(db_session, DocumentData(
                    number=number, kind=kind, client_id=bioprom.id, date=day,
                    lines=[LineData(product, D(quantity), D(price))]))  # fmt: skip

            invoice("INV-1", date(2026, 8, 14), pap, 6200, "10.00")  # 62,000.00
            invoice("CN-1", date(2026, 9, 30), pap, 80, "10.00", kind="credit_note")  # -800.00
            invoice("INV-2", date(2026, 6, 30), cart, 400, "25.00")  # Q2: 10,000.00
            invoice("INV-3", date(2026, 10, 20), cart, 2448, "25.00")  # Q4 so far: 61,200.00
            db_session.commit()
            ids.wholesale, ids.bioprom, ids.kalina = wholesale.id, bioprom.id, kalina.id
            ids.paper, ids.a4, ids.ink = paper.id, a4.id, ink.id
            ids.pap, ids.cart = pap.id, cart.id
        app.ids = ids
        yield app
