"""Shared by the tests of the contact history and of the agenda: an installation at a fixed
moment with two representatives and a manager, and a count of the SQL a request runs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from types import SimpleNamespace

import pytest
import time_machine
from flask import Flask
from sqlalchemy import event

from core.testing import make_user


@pytest.fixture
def sales_app(request, crm_app_factory) -> Iterator[Flask]:
    """crm_contacts installed, with maria and peter (sales representatives) and georgi (sales
    manager) in ``app.ids``, at the moment the test module names as ``NOW``."""
    # The machine's clock, moved (not our code patched): every "now" in the stack agrees.
    with time_machine.travel(request.module.NOW, tick=False):
        app = crm_app_factory(["crm_contacts"])
        app.ids = SimpleNamespace(
            maria=make_user(app, "maria", groups=("sales_rep",)),
            peter=make_user(app, "peter", groups=("sales_rep",)),
            georgi=make_user(app, "georgi", groups=("sales_manager",)),
        )
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
