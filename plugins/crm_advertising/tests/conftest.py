"""Shared by crm_advertising's tests: an installation with crm_contacts and crm_advertising, two
representatives with a client each, a manager, back office, a warehouse holding 200 catalogues and
10 display stands, and helpers to post forms as a browser would."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from flask import Flask

from core.db import db_session
from core.testing import make_user
from crm_advertising.models import Location, Material
from crm_advertising.permissions import MANAGE_STOCK
from crm_advertising.service import Actor, record_movement
from crm_contacts.models import Client, Person


@pytest.fixture
def app(crm_app_factory) -> Flask:
    app = crm_app_factory(["crm_advertising"])
    ids = SimpleNamespace(
        maria=make_user(app, "maria", groups=("sales_rep",)),
        peter=make_user(app, "peter", groups=("sales_rep",)),
        georgi=make_user(app, "georgi", groups=("sales_manager",)),
        vera=make_user(app, "vera", groups=("back_office",)),
    )
    with app.app_context():
        bioprom = Client(name="Bioprom", responsible_id=ids.maria, status="active")
        agrotech = Client(name="Agrotech", responsible_id=ids.peter, status="active")
        db_session.add_all([bioprom, agrotech])
        db_session.flush()
        anna = Person(client_id=bioprom.id, name="Anna Buyer", is_primary=True)
        warehouse = Location(name="Central warehouse", kind="warehouse")
        catalogue = Material(
            code="CAT",
            name="Catalogue 2027",
            unit="pcs",
            unit_cost=Decimal("4.50"),
            reorder_level=20,
        )
        stand = Material(
            code="STAND",
            name="Display stand",
            unit="pcs",
            unit_cost=Decimal("120.00"),
            returnable=True,
        )
        db_session.add_all([anna, warehouse, catalogue, stand])
        db_session.flush()
        system = Actor(SimpleNamespace(id=ids.georgi), frozenset({MANAGE_STOCK}))
        for material, count in ((catalogue, 200), (stand, 10)):
            record_movement(
                db_session,
                system,
                {
                    "kind": "receipt",
                    "day": date(2026, 1, 5),
                    "material_id": material.id,
                    "quantity": count,
                    "to_location_id": warehouse.id,
                },
            )
        db_session.commit()
        ids.bioprom, ids.agrotech, ids.anna = bioprom.id, agrotech.id, anna.id
        ids.warehouse, ids.catalogue, ids.stand = warehouse.id, catalogue.id, stand.id
    app.ids = ids
    return app
