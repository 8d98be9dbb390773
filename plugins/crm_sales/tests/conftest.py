"""Shared by crm_sales' tests: an installation with a small catalogue, two clients of two
representatives, and a count of the SQL a block runs."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest
from flask import Flask

from core.db import db_session
from core.testing import make_user
from crm_contacts.models import Client
from crm_sales.models import Product, ProductGroup


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
