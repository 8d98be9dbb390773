"""Shared by crm_tasks' tests: an installation with a manager (georgi), two representatives
(maria, peter), a back-office user (vera), a user without permissions (guest) and two clients,
Maria's and Peter's, at a fixed moment (``tasks_helpers.NOW``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from types import SimpleNamespace

import pytest
import time_machine
from flask import Flask
from sqlalchemy import event, select
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


@contextmanager
def _counting(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = app.extensions["crm"].engine

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


@pytest.fixture
def count_queries() -> Callable[[Flask], AbstractContextManager[list[str]]]:
    """``with count_queries(app) as statements:`` the SQL statements run inside the block."""
    return _counting
