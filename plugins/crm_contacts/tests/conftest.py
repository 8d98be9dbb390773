"""Shared by the tests of the contact history and of the agenda: an installation at a fixed
moment with two representatives and a manager, and a count of the SQL a request runs."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest
import time_machine
from flask import Flask

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
