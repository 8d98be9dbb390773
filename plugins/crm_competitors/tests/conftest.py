"""Shared by crm_competitors' tests: an installation with crm_contacts and crm_competitors at a
fixed moment; maria and peter (representatives), georgi (manager), root (administrator); regions
North and South; clients of each representative in them; the competitor Acme Foods."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
import time_machine
from flask import Flask

from core.db import db_session
from core.testing import make_user
from crm_competitors.models import Competitor
from crm_contacts.models import Client, Region

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TODAY = date(2026, 12, 1)


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def populate(app: Flask) -> SimpleNamespace:
    ids = SimpleNamespace(
        maria=make_user(app, "maria", groups=("sales_rep",)),
        peter=make_user(app, "peter", groups=("sales_rep",)),
        ivan=make_user(app, "ivan", groups=("sales_rep",)),
        georgi=make_user(app, "georgi", groups=("sales_manager",)),
        root=make_user(app, "root", groups=("admin",)),
    )
    with app.app_context():
        north, south = Region(name="North", order=10), Region(name="South", order=20)
        db_session.add_all([north, south])
        db_session.flush()
        clients = {
            "bioprom": Client(name="Bioprom", responsible_id=ids.maria, region_id=north.id),
            "nordmilk": Client(name="Nordmilk", responsible_id=ids.maria, region_id=north.id),
            "agrotech": Client(name="Agrotech", responsible_id=ids.peter, region_id=north.id),
            "coastal": Client(name="Coastal", responsible_id=ids.ivan, region_id=south.id),
        }
        acme = Competitor(name="Acme Foods", status="active")
        db_session.add_all([*clients.values(), acme])
        db_session.commit()
        ids.north, ids.south, ids.acme = north.id, south.id, acme.id
        for key, client in clients.items():
            setattr(ids, key, client.id)
    return ids


@pytest.fixture
def populated():
    """``populated(app)``: the users, regions, clients and competitor above, in ``app``."""
    return populate


@pytest.fixture
def app(crm_app_factory, clock) -> Flask:
    app = crm_app_factory(["crm_competitors"])
    app.ids = populate(app)
    return app
