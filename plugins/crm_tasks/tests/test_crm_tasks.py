"""crm_tasks: installing the module, its task list, and its foreign key into crm_contacts."""

from datetime import date

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import delete, func, inspect, select
from sqlalchemy.orm import Session

from core.db import Base
from core.modules import ModuleError, uninstall
from core.testing import (
    assert_requirements_match_depends,
    granted_permissions,
    installed,
    logged_in,
    make_user,
)
from crm_contacts.models import Client
from crm_contacts.plugin import crm_demo_data as contacts_demo_data
from crm_tasks.models import Task
from crm_tasks.plugin import MANIFEST
from crm_tasks.plugin import crm_demo_data as tasks_demo_data
from crm_tasks.views import PER_PAGE


@pytest.fixture
def app(crm_app_factory):
    return crm_app_factory(["crm_tasks"])


@pytest.fixture
def maria(app):
    """A sales representative, logged in."""
    user_id = make_user(app, "maria", groups=("sales_rep",))
    client = logged_in(app, "maria")
    client.user_id = user_id
    return client


def add(app, *records) -> None:
    with Session(app.extensions["crm"].engine) as session:
        session.add_all(records)
        session.commit()


def test_installing_crm_tasks_pulls_in_crm_contacts(app):
    assert installed(app) == ["crm_contacts", "crm_tasks"]


def test_crm_tasks_permissions_are_stored_with_their_default_groups(app):
    everyone = ["admin", "back_office", "sales_manager", "sales_rep"]
    assert granted_permissions(app, "crm_tasks") == {
        "crm_tasks.read": everyone,
        "crm_tasks.write": everyone,
    }


def test_the_distribution_requires_the_core_and_the_modules_in_depends():
    assert_requirements_match_depends("crm-tasks", MANIFEST)


def test_the_migration_creates_exactly_the_table_the_model_describes(app):
    def only_crm_tasks(obj, name, type_, reflected, compare_to):
        table = obj if type_ == "table" else obj.table
        return table.name.startswith("crm_tasks_")

    with app.extensions["crm"].engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": only_crm_tasks, "compare_type": True}
        )
        assert compare_metadata(context, Base.metadata) == []


def test_task_list_shows_an_empty_state_to_a_sales_rep(maria):
    response = maria.get("/tasks/")
    assert response.status_code == 200
    assert b'data-testid="tasks-empty"' in response.data
    assert b"No tasks yet." in response.data


def test_task_list_shows_a_task_with_its_client_and_due_date(app, maria):
    # Her own client: a record rule hides other representatives' clients from her.
    client = Client(name="Rila Water Ltd", responsible_id=maria.user_id)
    add(app, client, Task(title="Send the offer", client=client, due_date=date(2027, 3, 1)))
    page = maria.get("/tasks/").get_data(as_text=True)
    assert "Send the offer" in page
    assert "Rila Water Ltd" in page
    assert "2027-03-01" in page
    assert "No tasks yet." not in page


def test_task_list_paginates(app, maria):
    add(app, *(Task(title=f"Task {i:03}", due_date=date(2027, 1, 1)) for i in range(PER_PAGE + 1)))
    first = maria.get("/tasks/").get_data(as_text=True)
    second = maria.get("/tasks/?page=2").get_data(as_text=True)
    assert "Task 000" in first and f"Task {PER_PAGE:03}" not in first
    assert f"Task {PER_PAGE:03}" in second and "Task 000" not in second
    assert "Page 2 of 2" in second


def test_the_menu_offers_all_tasks_to_a_sales_rep(maria):
    page = maria.get("/").get_data(as_text=True)
    assert 'data-menu-id="crm_tasks.root"' in page
    assert 'data-menu-id="crm_tasks.tasks"' in page


def test_task_list_is_refused_to_a_user_without_crm_tasks_read(app):
    make_user(app, "guest")
    assert logged_in(app, "guest").get("/tasks/").status_code == 403


def test_task_list_sends_an_anonymous_visitor_to_the_login_page(app):
    response = app.test_client().get("/tasks/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_deleting_a_client_deletes_its_tasks_but_not_the_others(app):
    kept, gone = Client(name="Kept"), Client(name="Gone")
    add(app, Task(title="of kept", client=kept), Task(title="of gone", client=gone))
    add(app, Task(title="of nobody"))
    with Session(app.extensions["crm"].engine) as session:
        session.execute(delete(Client).where(Client.name == "Gone"))
        session.commit()
        titles = sorted(session.scalars(select(Task.title)))
    assert titles == ["of kept", "of nobody"]


def test_crm_contacts_cannot_be_uninstalled_while_crm_tasks_is_installed(app):
    crm = app.extensions["crm"]
    with pytest.raises(ModuleError, match="crm_tasks"):
        uninstall(crm.engine, crm.plugins, "crm_contacts")


def test_uninstalling_crm_tasks_drops_its_table_and_keeps_the_clients(app):
    crm = app.extensions["crm"]
    add(app, Task(title="of kept", client=Client(name="Kept")))
    uninstall(crm.engine, crm.plugins, "crm_tasks")
    assert installed(app) == ["crm_contacts"]
    with crm.engine.connect() as connection:
        assert "crm_tasks_task" not in inspect(connection).get_table_names()
        assert connection.scalar(select(func.count()).select_from(Client)) == 1


def test_demo_tasks_belong_to_demo_clients_and_are_the_same_every_time(crm_app_factory):
    def demo() -> list[tuple]:
        app = crm_app_factory(["crm_tasks"])
        with Session(app.extensions["crm"].engine) as session:
            contacts_demo_data(session, 1)
            tasks_demo_data(session, 1)
            session.commit()
            client_ids = set(session.scalars(select(Client.id)))
            tasks = session.execute(
                select(Task.title, Task.client_id, Task.due_date, Task.done).order_by(Task.id)
            ).all()
        assert 24 <= len(tasks) <= 100
        assert {t.client_id for t in tasks} - {None} <= client_ids
        assert any(t.client_id is not None for t in tasks)
        return [tuple(t) for t in tasks]

    assert demo() == demo()
