"""Shared by crm_contracts' tests: an installation with only crm_contacts and crm_contracts, at a
fixed moment, with two representatives, a manager and a client of each representative."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
import time_machine
from flask import Flask

from core.db import db_session
from core.testing import make_user
from crm_contacts.models import Client

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TODAY = date(2026, 12, 1)


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def app(crm_app_factory, clock) -> Flask:
    """maria and peter (representatives), georgi (manager); Bioprom is maria's client, Agrotech
    peter's (``app.ids``)."""
    app = crm_app_factory(["crm_contracts"])
    ids = SimpleNamespace(
        maria=make_user(app, "maria", groups=("sales_rep",)),
        peter=make_user(app, "peter", groups=("sales_rep",)),
        georgi=make_user(app, "georgi", groups=("sales_manager",)),
    )
    with app.app_context():
        bioprom = Client(name="Bioprom", responsible_id=ids.maria, status="active")
        agrotech = Client(name="Agrotech", responsible_id=ids.peter, status="active")
        db_session.add_all([bioprom, agrotech])
        db_session.commit()
        ids.bioprom, ids.agrotech = bioprom.id, agrotech.id
    app.ids = ids
    return app
