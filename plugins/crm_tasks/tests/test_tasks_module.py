"""crm_tasks as a module: install, permissions, record rules, migrations (0002 upgrades tasks of the
first version), uninstall, demo data, menus, commitment types."""

from __future__ import annotations

from datetime import date

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select, text
from tasks_helpers import session_of

from core import migrate
from core.cli import main as crm
from core.db import Base
from core.modules import ModuleError, uninstall
from core.testing import (
    assert_requirements_match_depends,
    granted_permissions,
    installed,
    logged_in,
)
from crm_contacts.models import Client
from crm_contacts.plugin import crm_demo_data as contacts_demo_data
from crm_tasks.models import CommitmentType, Task, Transition
from crm_tasks.plugin import MANIFEST
from crm_tasks.plugin import crm_demo_data as tasks_demo_data


def test_installing_crm_tasks_pulls_in_crm_contacts(app):
    assert installed(app) == ["crm_contacts", "crm_tasks"]


def test_permissions_are_stored_with_their_default_groups(app):
    everyone = ["admin", "back_office", "sales_manager", "sales_rep"]
    assert granted_permissions(app, "crm_tasks") == {
        "crm_tasks.read": everyone,
        "crm_tasks.write": everyone,
        "crm_tasks.delete": ["admin", "sales_manager"],
        "crm_tasks.manage": ["admin", "sales_manager"],
    }


def test_the_distribution_requires_the_core_and_the_modules_in_depends():
    assert_requirements_match_depends("crm-tasks", MANIFEST)


def test_the_migrations_create_exactly_what_the_models_describe(app):
    def only_crm_tasks(obj, name, type_, reflected, compare_to):
        table = obj if type_ == "table" else obj.table
        return table.name.startswith("crm_tasks_")

    with app.extensions["crm"].engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": only_crm_tasks, "compare_type": True}
        )
        assert compare_metadata(context, Base.metadata) == []


def test_the_commitment_types_of_the_issue_are_there_and_configurable(app):
    with session_of(app) as session:
        types = session.execute(
            select(
                CommitmentType.code, CommitmentType.name, CommitmentType.needs_development
            ).order_by(CommitmentType.sort_order)
        ).all()
    assert [tuple(t) for t in types] == [
        ("new_contract", "Conclude a new contract", False),
        ("offer", "Provide an offer", False),
        ("sample", "Develop a sample", True),
        ("test_product", "Develop a test product", True),
        ("invoice", "Issue an invoice", False),
        ("other", "Other", False),
    ]
    georgi = logged_in(app, "georgi")
    assert georgi.get("/tasks/settings/types").status_code == 200
    bad = georgi.post("/tasks/settings/types/new", data={"code": "Bad Code", "name": ""})
    assert bad.status_code == 400
    page = bad.get_data(as_text=True)
    assert "Lowercase letters" in page and "1 to 100 characters." in page
    clash = georgi.post("/tasks/settings/types/new", data={"code": "offer", "name": "Offer 2"})
    assert "Another type has this code." in clash.get_data(as_text=True)
    made = georgi.post(
        "/tasks/settings/types/new",
        data={"code": "tasting", "name": "Organise a tasting", "active": "y", "sort_order": "60"},
    )
    assert made.status_code == 302
    # Switched off, a type is no longer offered for new tasks.
    with session_of(app) as session:
        tasting = session.scalar(select(CommitmentType).where(CommitmentType.code == "tasting"))
    assert ">Organise a tasting</option>" in georgi.get("/tasks/new").get_data(as_text=True)
    deactivated = georgi.post(
        f"/tasks/settings/types/{tasting.id}/edit",
        data={"code": "tasting", "name": "Organise a tasting", "sort_order": "60", "version": "1"},
    )
    assert deactivated.status_code == 302
    assert ">Organise a tasting</option>" not in georgi.get("/tasks/new").get_data(as_text=True)
    assert logged_in(app, "maria").get("/tasks/settings/types").status_code == 403


def test_migration_0002_upgrades_the_tasks_of_the_first_version(crm_app_factory):
    app = crm_app_factory(["crm_contacts"])
    crm = app.extensions["crm"]
    with crm.engine.begin() as connection:
        command.upgrade(migrate.alembic_config(crm.plugins.values(), connection), "crm_tasks_0001")
        connection.execute(
            text(
                "INSERT INTO crm_tasks_task (title, client_id, due_date, done, created_at) VALUES "
                "('old open', NULL, '2026-01-05', :no, '2026-01-01 10:00:00+00:00'), "
                "('old done', NULL, NULL, :yes, '2026-01-01 10:00:00+00:00')"
            ),
            {"no": False, "yes": True},
        )
        migrate.upgrade(connection, crm.plugins.values(), "crm_tasks")
    with session_of(app) as session:
        rows = session.execute(
            select(Task.title, Task.status, CommitmentType.code, Task.version)
            .join(CommitmentType)
            .order_by(Task.id)
        ).all()
        assert [tuple(r) for r in rows] == [
            ("old open", "assigned", "other", 1),
            ("old done", "confirmed", "other", 1),
        ]
    with crm.engine.begin() as connection:
        migrate.downgrade(connection, crm.plugins.values(), "crm_tasks")
        assert "crm_tasks_task" not in inspect(connection).get_table_names()


def test_crm_contacts_cannot_be_uninstalled_while_crm_tasks_is_installed(app):
    crm = app.extensions["crm"]
    with pytest.raises(ModuleError, match="crm_tasks"):
        uninstall(crm.engine, crm.plugins, "crm_contacts")


def test_uninstalling_crm_tasks_drops_its_tables_and_keeps_the_clients(app):
    crm = app.extensions["crm"]
    with session_of(app) as session:
        session.add(Task(title="t", client_id=app.ids.bioprom, commitment_type_id=1))
        session.commit()
    uninstall(crm.engine, crm.plugins, "crm_tasks")
    assert installed(app) == ["crm_contacts"]
    with crm.engine.connect() as connection:
        tables = inspect(connection).get_table_names()
        assert not [t for t in tables if t.startswith("crm_tasks_")]
        assert connection.scalar(select(func.count()).select_from(Client)) == 2
    assert logged_in(app, "georgi").get("/tasks/").status_code == 404


def test_the_menu_offers_the_task_pages(app):
    page = logged_in(app, "maria").get("/").get_data(as_text=True)
    for entry in ("crm_tasks.mine", "crm_tasks.by_me", "crm_tasks.board", "crm_tasks.new"):
        assert f'data-menu-id="{entry}"' in page
    assert 'data-menu-id="crm_tasks.monitoring"' not in page
    manager = logged_in(app, "georgi").get("/").get_data(as_text=True)
    assert 'data-menu-id="crm_tasks.monitoring"' in manager


def test_pages_refuse_users_without_permission_and_anonymous_visitors(app):
    assert logged_in(app, "guest").get("/tasks/").status_code == 403
    response = app.test_client().get("/tasks/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_demo_data_is_realistic_and_the_same_every_time(crm_app_factory):
    def demo() -> list[tuple]:
        app = crm_app_factory(["crm_tasks"])
        result = app.test_cli_runner().invoke(crm, ["demo"])
        assert result.exit_code == 0, result.output
        with session_of(app) as session:
            client_ids = set(session.scalars(select(Client.id)))
            tasks = session.execute(
                select(Task.title, Task.client_id, Task.status, Task.assigned_to_id).order_by(
                    Task.id
                )
            ).all()
            steps = session.scalar(select(func.count()).select_from(Transition))
            rejected = session.scalars(
                select(Task.rejection_reason).where(Task.status == "rejected")
            ).all()
            due = session.scalars(select(Task.due_date).where(Task.due_date.is_not(None))).all()
        assert 30 <= len(tasks) <= 100
        assert {t.client_id for t in tasks} - {None} <= client_ids
        assert {t.status for t in tasks} >= {"assigned", "in_progress", "confirmed", "rejected"}
        assert all(t.assigned_to_id for t in tasks)
        assert steps > len(tasks)
        assert rejected and all(rejected)
        assert any(d < date.today() for d in due)
        return [tuple(t) for t in tasks]

    assert demo() == demo()


def test_demo_tasks_need_the_demo_users(crm_app_factory):
    app = crm_app_factory(["crm_tasks"])
    with session_of(app) as session:
        contacts_demo_data(session, 1)
        tasks_demo_data(session, 1)  # no users yet: nothing to assign, nothing written
        session.commit()
        assert session.scalar(select(func.count()).select_from(Task)) == 0
