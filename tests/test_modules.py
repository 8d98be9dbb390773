"""Module install and uninstall: dependencies, refusal, impact, all-or-nothing, and the database
state they leave, through the CLI and the Apps page."""

from __future__ import annotations

import types

import pytest
from sqlalchemy import func, select

from core import Manifest, hookimpl
from core.db import db_session
from core.models import Module
from core.modules import ModuleError, install
from core.plugins import PluginInfo
from core.testing import granted_permissions, installed, logged_in, make_user
from tests.helpers import run_cli, tables


def test_install_pulls_in_dependencies_first(crm_app_factory):
    app = crm_app_factory()
    result = run_cli(app, "module", "install", "crm_tasks")
    assert result.exit_code == 0, result.output
    assert "Installed: crm_contacts, crm_tasks" in result.output
    assert {"crm_contacts_client", "crm_tasks_task"} <= tables(app)


def test_uninstall_cycle_through_the_cli(crm_app_factory):
    app = crm_app_factory(["crm_tasks"])
    make_user(app, "root", groups=("admin",))
    admin_client = logged_in(app, "root")
    with app.app_context():
        from crm_contacts.models import Client

        db_session.add_all([Client(name="Bioprom"), Client(name="Agrotech")])
        db_session.commit()
    assert admin_client.get("/contacts/clients").status_code == 200
    assert b'data-menu-id="crm_contacts.clients"' in admin_client.get("/").data

    refused = run_cli(app, "module", "uninstall", "crm_contacts", "--yes")
    assert refused.exit_code != 0
    assert "crm_tasks" in refused.output
    assert "crm_contacts_client" in tables(app)

    assert run_cli(app, "module", "uninstall", "crm_tasks", "--yes").exit_code == 0
    preview = run_cli(app, "module", "uninstall", "crm_contacts")
    assert preview.exit_code == 1
    assert "crm_contacts_client: 2 rows" in preview.output
    assert "crm_contacts_client" in tables(app), "without --yes nothing is dropped"

    done = run_cli(app, "module", "uninstall", "crm_contacts", "--yes")
    assert done.exit_code == 0, done.output
    assert not any(t.startswith("crm_contacts_") for t in tables(app))
    # The same client, the same process, no restart: the pages and menus of the module are gone.
    assert admin_client.get("/contacts/clients").status_code == 404
    assert admin_client.get("/api/v1/contacts/clients").status_code == 404
    assert b"crm_contacts.clients" not in admin_client.get("/").data
    assert granted_permissions(app, "crm_contacts") == {}

    back = run_cli(app, "module", "install", "crm_tasks")
    assert "Installed: crm_contacts, crm_tasks" in back.output
    assert admin_client.get("/contacts/clients").status_code == 200


def test_uninstall_keeps_other_modules_data(crm_app_factory):
    app = crm_app_factory(["crm_tasks"])
    with app.app_context():
        from crm_contacts.models import Client

        db_session.add(Client(name="Bioprom"))
        db_session.commit()
    assert run_cli(app, "module", "uninstall", "crm_tasks", "--yes").exit_code == 0
    with app.app_context():
        assert db_session.scalar(select(func.count()).select_from(Client)) == 1
        assert db_session.get(Module, "crm_tasks").state == "uninstalled"
    assert installed(app) == ["crm_contacts"]


def _failing_plugin() -> PluginInfo:
    module = types.ModuleType("crm_failing")
    module.MANIFEST = Manifest(name="crm_failing", depends=("crm_contacts",))

    @hookimpl
    def crm_install(session):
        raise RuntimeError("the install callback failed")

    module.crm_install = crm_install
    return PluginInfo(name="crm_failing", manifest=module.MANIFEST, module=module, version="0.1")


def test_install_is_all_or_nothing(crm_app_factory, crm_plugins):
    plugins = {**crm_plugins, "crm_failing": _failing_plugin()}
    app = crm_app_factory(plugins=plugins)
    before = tables(app)
    with pytest.raises(RuntimeError, match="install callback failed"):
        install(app.extensions["crm"].engine, plugins, ["crm_failing"])
    # crm_contacts was migrated in the same transaction before the failure: rolled back too.
    assert tables(app) == before
    assert installed(app) == []


def test_install_of_unknown_or_broken_module_says_why(crm_app_factory, crm_plugins):
    app = crm_app_factory()
    result = run_cli(app, "module", "install", "crm_nothing")
    assert result.exit_code != 0
    assert "unknown module 'crm_nothing'" in result.output
    broken = {**crm_plugins, "crm_bad": PluginInfo(name="crm_bad", error="failed to load: boom")}
    with pytest.raises(ModuleError, match="crm_bad' is broken"):
        install(app.extensions["crm"].engine, broken, ["crm_bad"])


def test_module_list_shows_state_depends_and_summary(crm_app_factory):
    app = crm_app_factory(["crm_contacts"])
    result = run_cli(app, "module", "list")
    assert result.exit_code == 0
    lines = {line.split()[0]: line for line in result.output.splitlines()[1:] if line.strip()}
    assert "installed" in lines["crm_contacts"] and "not installed" not in lines["crm_contacts"]
    assert "not installed" in lines["crm_tasks"] and "crm_contacts" in lines["crm_tasks"]
    assert "Tasks and commitments" in lines["crm_tasks"]


def test_db_upgrade_is_idempotent(crm_app_factory):
    app = crm_app_factory(["crm_tasks"])
    first = run_cli(app, "db", "upgrade")
    again = run_cli(app, "db", "upgrade")
    assert first.exit_code == again.exit_code == 0
    assert "crm_contacts, crm_tasks" in again.output


class TestAppsPage:
    @pytest.fixture
    def app(self, crm_app_factory):
        app = crm_app_factory(["crm_tasks"])
        make_user(app, "root", groups=("admin",))
        make_user(app, "maria", groups=("sales_rep",))
        return app

    def test_lists_every_module_with_its_state(self, app):
        client = logged_in(app, "root")
        page = client.get("/apps").get_data(as_text=True)
        assert 'data-module="crm_contacts"' in page and 'data-module="crm_reports"' in page
        assert page.count('badge text-bg-success">installed') == 2

    def test_uninstall_shows_impact_and_needs_confirmation(self, app):
        client = logged_in(app, "root")
        blocked = client.get("/apps/crm_contacts/uninstall").get_data(as_text=True)
        assert 'data-testid="blocked"' in blocked and "crm_tasks" in blocked
        preview = client.get("/apps/crm_tasks/uninstall").get_data(as_text=True)
        assert "crm_tasks_task" in preview
        wrong = client.post("/apps/crm_tasks/uninstall", data={"confirm": "yes"})
        assert wrong.status_code == 400
        assert "crm_tasks_task" in tables(app)
        done = client.post("/apps/crm_tasks/uninstall", data={"confirm": "crm_tasks"})
        assert done.status_code == 302
        assert "crm_tasks_task" not in tables(app)
        assert client.get("/tasks/").status_code == 404
        client.post("/apps/crm_tasks/install")
        assert client.get("/tasks/").status_code == 200

    def test_is_for_administrators_only(self, app):
        client = logged_in(app, "maria")
        assert client.get("/apps").status_code == 403
        assert (
            client.post("/apps/crm_tasks/uninstall", data={"confirm": "crm_tasks"}).status_code
            == 403
        )
        assert "crm_tasks_task" in tables(app)
        assert b'data-menu-id="core.apps"' not in client.get("/").data
