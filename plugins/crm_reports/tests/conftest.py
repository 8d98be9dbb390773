"""Shared by crm_reports' tests: every bundled module with a table installed, the demo data
(``crm demo``: users maria and peter, representatives; georgi, sales manager; vera, back office;
password ``demo``) and a user without permissions (guest). The demo database is built once per
test session and each test gets a copy of it."""

from __future__ import annotations

import pytest
from flask import Flask
from reports_helpers import MODULES
from sqlalchemy.engine import make_url

from core.app import create_app
from core.cli import main as crm_cli
from core.testing import make_user

DEMO_PASSWORD = "demo"  # noqa: S105 - the demo users' documented password


@pytest.fixture(scope="session")
def demo_template(crm_databases, crm_plugins, tmp_path_factory) -> str:
    url = crm_databases.fresh(MODULES, crm_plugins)
    app = create_app(
        {"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test-secret",
         "INSTANCE_PATH": str(tmp_path_factory.mktemp("demo-instance")),
         "ARGON2_PARAMETERS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}},
        plugins=crm_plugins,
    )  # fmt: skip
    result = app.test_cli_runner().invoke(crm_cli, ["demo", "--scale", "1"])
    assert result.exit_code == 0, result.output
    make_user(app, "guest")
    app.extensions["crm"].engine.dispose()
    return make_url(url).database if crm_databases.postgres else url.removeprefix("sqlite:///")


@pytest.fixture
def app(crm_app_factory, crm_databases, demo_template) -> Flask:
    return crm_app_factory(MODULES, database_url=crm_databases._new_url(demo_template))
