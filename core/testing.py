"""Pytest fixtures for the core's and every plugin's tests (a pytest plugin, loaded automatically
wherever ``crm-core`` is installed).

``crm_app_factory(modules)`` builds an application on a fresh database that has run the real
migrations of the core and of ``modules``: SQLite in a temporary folder, or PostgreSQL when
``CRM_TEST_DATABASE_URL`` names a server (a new database each time). Migrating is the slow part, so
the first database of each module set is kept as a template and later ones are copies of it.
"""

from __future__ import annotations

import itertools
import os
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from core.app import create_app
from core.db import make_engine
from core.modules import init_core, install
from core.plugins import PluginInfo, discover

TEST_PASSWORD = "correct horse battery staple"  # noqa: S105 - test users only


class Databases:
    """Hands out fresh database URLs, from cached templates of migrated module sets."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.server_url = os.environ.get("CRM_TEST_DATABASE_URL") or None
        self.run_id = uuid.uuid4().hex[:8]
        self.counter = itertools.count()
        self.templates: dict[tuple, str] = {}
        self.created: list[str] = []

    @property
    def postgres(self) -> bool:
        return bool(self.server_url)

    def _admin(self):
        return create_engine(self.server_url, isolation_level="AUTOCOMMIT")

    def _new_url(self, template: str | None = None) -> str:
        n = next(self.counter)
        if not self.postgres:
            path = self.folder / f"db{n}.sqlite3"
            if template:
                shutil.copyfile(template, path)
            return f"sqlite:///{path}"
        name = f"crmtest_{self.run_id}_{n}"
        admin = self._admin()
        with admin.connect() as connection:
            suffix = f' TEMPLATE "{template}"' if template else ""
            connection.execute(text(f'CREATE DATABASE "{name}"{suffix}'))
        admin.dispose()
        self.created.append(name)
        return make_url(self.server_url).set(database=name).render_as_string(hide_password=False)

    def fresh(self, modules: Iterable[str], plugins: dict[str, PluginInfo]) -> str:
        key = (tuple(sorted(modules)), tuple(sorted(plugins)))
        if key not in self.templates:
            url = self._new_url()
            engine = make_engine(url)
            init_core(engine, plugins)
            install(engine, plugins, key[0])
            engine.dispose()
            self.templates[key] = (
                make_url(url).database if self.postgres else url.removeprefix("sqlite:///")
            )
        return self._new_url(self.templates[key])

    def drop_all(self) -> None:
        if not self.postgres or not self.created:
            return
        admin = self._admin()
        with admin.connect() as connection:
            for name in self.created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def crm_databases(tmp_path_factory) -> Iterator[Databases]:
    databases = Databases(tmp_path_factory.mktemp("crm-databases"))
    yield databases
    databases.drop_all()


@pytest.fixture(scope="session")
def crm_plugins() -> dict[str, PluginInfo]:
    """The plugins discovered in this environment (entry points), loaded once per test session."""
    return discover()


@pytest.fixture
def crm_app_factory(crm_databases, crm_plugins, tmp_path) -> Iterator[Callable[..., Flask]]:
    apps: list[Flask] = []

    def make(
        modules: Iterable[str] = (),
        *,
        plugins: dict[str, PluginInfo] | None = None,
        config: dict[str, Any] | None = None,
        database_url: str | None = None,
    ) -> Flask:
        plugins = crm_plugins if plugins is None else plugins
        url = database_url or crm_databases.fresh(modules, plugins)
        settings = {
            "TESTING": True,
            "DATABASE_URL": url,
            "SECRET_KEY": "test-secret",
            "INSTANCE_PATH": str(tmp_path / "instance"),
            # Forms are posted without tokens in most tests; tests of CSRF itself turn it on.
            "WTF_CSRF_ENABLED": False,
            # argon2id still, at a cost that lets the suite create hundreds of users.
            "ARGON2_PARAMETERS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
        }
        settings.update(config or {})
        app = create_app(settings, plugins=plugins)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["crm"].engine.dispose()


@pytest.fixture
def crm_app(crm_app_factory) -> Flask:
    """The core alone, no module installed."""
    return crm_app_factory()


def make_user(app: Flask, login: str, groups: Iterable[str] = (), password: str = TEST_PASSWORD):
    """Create a user in ``groups`` (group codes: admin, sales_manager, sales_rep, back_office)."""
    from core.auth import create_user
    from core.db import db_session

    with app.app_context():
        user = create_user(db_session, login, password, name=login.title(), groups=tuple(groups))
        db_session.commit()
        return user.id


def log_in(client, login: str, password: str = TEST_PASSWORD):
    response = client.post("/login", data={"login": login, "password": password})
    assert response.status_code == 302, f"login of {login!r} failed: {response.status_code}"
    return response


@pytest.fixture
def crm_admin_client(crm_app):
    """A test client of ``crm_app`` logged in as an administrator."""
    make_user(crm_app, "root", groups=("admin",))
    client = crm_app.test_client()
    log_in(client, "root")
    return client
