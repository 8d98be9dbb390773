"""Shared by crm_reports' tests: every bundled module with a table installed, the demo data
(``crm demo``: users maria and peter, representatives; georgi, sales manager; vera, back office;
password ``demo``), and a user without permissions (guest)."""

from __future__ import annotations

import pytest
from flask import Flask

from core.cli import main as crm_cli
from core.testing import make_user

MODULES = ["crm_contacts", "crm_sales", "crm_tasks", "crm_contracts", "crm_pricing", "crm_reports"]
DEMO_PASSWORD = "demo"  # noqa: S105 - the demo users' documented password


@pytest.fixture
def app(crm_app_factory) -> Flask:
    app = crm_app_factory(MODULES)
    result = app.test_cli_runner().invoke(crm_cli, ["demo", "--scale", "1"])
    assert result.exit_code == 0, result.output
    make_user(app, "guest")
    return app
