"""Shared by crm_tasks' tests: an installation with a manager (georgi), two representatives
(maria, peter), a back-office user (vera), a user without permissions (guest) and two clients,
Maria's and Peter's, at a fixed moment (``tasks_helpers.NOW``)."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from tasks_helpers import NOW

from core.testing import make_user
from crm_contacts.models import Client
from crm_tasks.models import CommitmentType


@pytest.fixture
def app(crm_app_factory) -> Iterator[Flask]:
    with time_machine.travel(NOW, tick=False):
        app = crm_app_factory(["crm_tasks"], config={"ATTACHMENT_MAX_BYTES": 2000})
        app.ids = SimpleNamespace(
            georgi=make_user(app, "georgi", groups=("sales_manager",)),
            maria=make_user(app, "maria", groups=("sales_rep",)),
            peter=make_user(app, "peter", groups=("sales_rep",)),
            vera=make_user(app, "vera", groups=("back_office",)),
            guest=make_user(app, "guest"),
        )
        with Session(app.extensions["crm"].engine) as session:
            client = Client(name="Bioprom", responsible_id=app.ids.maria)
            other = Client(name="Rila Water", responsible_id=app.ids.peter)
            session.add_all([client, other])
            session.commit()
            app.ids.bioprom, app.ids.rila = client.id, other.id
            app.types = {t.code: t.id for t in session.scalars(select(CommitmentType))}
        yield app
