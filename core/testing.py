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
import re
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from html.parser import HTMLParser
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from core.app import create_app
from core.db import make_engine
from core.manifest import Manifest
from core.models import PermissionRecord
from core.modules import init_core, install, installed_modules
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


def logged_in(app: Flask, login: str, password: str = TEST_PASSWORD) -> FlaskClient:
    """A new test client of ``app``, logged in as ``login`` (the user must exist)."""
    client = app.test_client()
    log_in(client, login, password)
    return client


@pytest.fixture
def crm_admin_client(crm_app):
    """A test client of ``crm_app`` logged in as an administrator."""
    make_user(crm_app, "root", groups=("admin",))
    return logged_in(crm_app, "root")


@contextmanager
def statements_run(app: Flask) -> Iterator[list[str]]:
    """``with statements_run(app) as statements:`` the SQL statements ``app`` runs in the block,
    for tests that a page or a service costs a number of queries that does not grow with data."""
    statements: list[str] = []
    engine = app.extensions["crm"].engine

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def count_queries() -> Callable[[Flask], AbstractContextManager[list[str]]]:
    """``with count_queries(app) as statements:`` the SQL statements run inside the block."""
    return statements_run


def installed(app: Flask) -> list[str]:
    """The sorted names of the modules installed in ``app``'s database."""
    with app.extensions["crm"].engine.connect() as connection:
        return installed_modules(connection)


def granted_permissions(app: Flask, module: str) -> dict[str, list[str]]:
    """``{code: sorted group codes}`` of the permissions ``module`` stored."""
    with Session(app.extensions["crm"].engine) as session:
        records = session.scalars(
            select(PermissionRecord).where(PermissionRecord.module == module)
        ).all()
        return {r.code: sorted(g.code for g in r.groups) for r in records}


def assert_requirements_match_depends(distribution: str, manifest: Manifest) -> None:
    """Assert that the CRM distributions ``distribution`` requires are crm-core and the modules of
    ``manifest.depends``: no more (an import the manifest does not declare), no fewer. Libraries
    from elsewhere (openpyxl, ...) are the plugin's own business and are not compared."""
    names = {
        re.split(r"[\s;<>=!~\[(]", r, maxsplit=1)[0].lower().replace("_", "-")
        for r in metadata.requires(distribution) or ()
    }
    required = {name for name in names if name.startswith("crm-")}
    expected = {"crm-core", *(d.replace("_", "-") for d in manifest.depends)}
    assert required == expected, f"what {distribution} requires is not crm-core and its depends"


FormFields = dict[str, str | list[str]]
_UNPOSTED_INPUTS = {"button", "file", "image", "reset", "submit"}


class _FormParser(HTMLParser):
    """Collects the successful controls of the first form posting to ``action`` (any if None)."""

    def __init__(self, action: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.action = action
        self.state = "before"  # then "inside", then "after" the form
        self.fields: list[tuple[str, str]] = []
        self.select: dict[str, Any] | None = None
        self.option: dict[str, Any] | None = None
        self.textarea: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form" and self.state == "before":
            if self.action is None or found.get("action") == self.action:
                self.state = "inside"
            return
        if self.state != "inside":
            return
        name = found.get("name")
        if tag == "option" and self.select is not None:
            self._end_option()
            self.option = {
                "value": found.get("value"),
                "selected": "selected" in found,
                "disabled": "disabled" in found,
                "text": [],
            }
        if not name or "disabled" in found:
            return
        if tag == "input":
            kind = (found.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in found:
                    value = found.get("value")
                    self.fields.append((name, "on" if value is None else value))
            elif kind not in _UNPOSTED_INPUTS:
                self.fields.append((name, found.get("value") or ""))
        elif tag == "select":
            self.select = {"name": name, "multiple": "multiple" in found, "options": []}
        elif tag == "textarea":
            self.textarea = (name, [])

    def handle_data(self, data: str) -> None:
        if self.option is not None:
            self.option["text"].append(data)
        elif self.textarea is not None:
            self.textarea[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.state == "inside":
            self.state = "after"
        elif tag == "option":
            self._end_option()
        elif tag == "select" and self.select is not None:
            self._end_option()
            options = [o for o in self.select["options"] if not o["disabled"]]
            chosen = [o for o in options if o["selected"]]
            if not chosen and options and not self.select["multiple"]:
                chosen = options[:1]  # a single select with nothing selected shows its first
            if not self.select["multiple"]:
                chosen = chosen[-1:]
            self.fields.extend((self.select["name"], o["value"]) for o in chosen)
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            name, text = self.textarea
            value = "".join(text)
            self.fields.append((name, value[1:] if value.startswith("\n") else value))
            self.textarea = None

    def _end_option(self) -> None:
        if self.option is None or self.select is None:
            return
        if self.option["value"] is None:
            self.option["value"] = " ".join("".join(self.option["text"]).split())
        self.select["options"].append(self.option)
        self.option = None


def form_fields(html: str, action: str | None = None) -> FormFields:
    """The fields of the first form (posting to ``action``) as a browser would post them back."""
    parser = _FormParser(action)
    parser.feed(html)
    parser.close()
    where = "" if action is None else f" posting to {action!r}"
    assert parser.state != "before", f"the page has no form{where}"
    fields: FormFields = {}
    for name, value in parser.fields:
        if name == "csrf_token":
            continue
        if name not in fields:
            fields[name] = value
        elif isinstance(fields[name], list):
            fields[name].append(value)
        else:
            fields[name] = [fields[name], value]
    return fields
