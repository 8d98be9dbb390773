"""What a request computes once and reuses: the user's permissions, the menu and apps list of every
template it renders, the record rules' conditions. Each must still be right after a change, at the
next request and within the request that makes it."""

from __future__ import annotations

import re

import pytest
from flask import render_template_string
from flask_login import login_user
from sqlalchemy import delete, select

from core.auth import has_permission, user_groups
from core.db import db_session
from core.models import Group, PermissionRecord, User, group_permission
from core.testing import logged_in, make_user


def _menu_ids(page: str) -> set[str]:
    return set(re.findall(r'data-menu-id="([^"]+)"', page))


@pytest.fixture
def app(crm_app_factory):
    app = crm_app_factory(["crm_contacts", "crm_tasks"])
    maria = make_user(app, "maria", groups=("sales_rep",))
    make_user(app, "peter", groups=("sales_rep",))
    make_user(app, "root", groups=("admin",))
    with app.app_context():
        from crm_contacts.models import Address, Client

        db_session.add(
            Client(name="Bioprom", addresses=[Address(city="Sofia")], responsible_id=maria)
        )
        db_session.commit()
    return app


def _client_id(app) -> int:
    with app.app_context():
        from crm_contacts.models import Client

        return db_session.scalar(select(Client.id).where(Client.name == "Bioprom"))


def _set_groups(app, login: str, codes: tuple[str, ...]) -> None:
    with app.app_context():
        user = db_session.scalar(select(User).where(User.login == login))
        user.groups = list(db_session.scalars(select(Group).where(Group.code.in_(codes))))
        db_session.commit()


def test_a_revoked_permission_is_refused_and_its_menu_gone_at_the_next_request(app):
    maria = logged_in(app, "maria")
    assert maria.get("/tasks/").status_code == 200
    assert "crm_tasks.root" in _menu_ids(maria.get("/").get_data(as_text=True))
    with app.app_context():
        rep = db_session.scalar(select(Group.id).where(Group.code == "sales_rep"))
        db_session.execute(
            delete(group_permission).where(
                group_permission.c.group_id == rep,
                group_permission.c.permission_code.like("crm_tasks.%"),
            )
        )
        db_session.commit()
    # The same browser, no new login: the process kept nothing from the previous requests.
    assert maria.get("/tasks/").status_code == 403
    assert not any(
        m.startswith("crm_tasks") for m in _menu_ids(maria.get("/").get_data(as_text=True))
    )


def test_the_client_file_renders_each_users_menu_and_buttons(app):
    """The client file renders a dozen templates (one per section) with one menu per request:
    two users one after the other in the same process each get their own."""
    client_id = _client_id(app)
    make_user(app, "reader", groups=())
    with app.app_context():
        reader = db_session.scalar(select(User).where(User.login == "reader"))
        group = Group(code="readers", name="Readers")
        db_session.add(group)
        group.permissions = [db_session.get(PermissionRecord, "crm_contacts.read")]
        reader.groups = [group]
        db_session.commit()
    root = logged_in(app, "root")
    reader = logged_in(app, "reader")
    for _ in range(2):  # alternating, so that nothing of one request leaks into the next
        admin_page = root.get(f"/contacts/clients/{client_id}").get_data(as_text=True)
        reader_page = reader.get(f"/contacts/clients/{client_id}").get_data(as_text=True)
        assert {"core.users", "crm_tasks.root"} <= _menu_ids(admin_page)
        assert not any(m.startswith(("core.users", "crm_tasks")) for m in _menu_ids(reader_page))
        assert any(m.startswith("crm_contacts") for m in _menu_ids(reader_page))
        # A section's own template asks has_permission: the writer's buttons are the admin's only.
        assert f"/contacts/clients/{client_id}/edit" in admin_page
        assert f"/contacts/clients/{client_id}/edit" not in reader_page


def test_a_change_of_groups_within_a_request_is_seen_by_the_rest_of_it(app):
    """An administrator's own request that changes groups (or grants) and then checks or renders
    sees the change: the memo is dropped by the flush or statement that makes it, and by a
    rollback that undoes it."""
    menu = "{% for node in crm_menu %}[{{ node.id }}]{% endfor %}"
    with app.test_request_context("/"):
        from core.state import current_state

        current_state()
        maria = db_session.scalar(select(User).where(User.login == "maria"))
        login_user(maria)
        assert has_permission("crm_tasks.read") and "sales_rep" in user_groups(maria)
        assert "[crm_tasks.root]" in render_template_string(menu)

        maria.groups = []  # through the ORM: seen at the flush
        db_session.flush()
        assert not has_permission("crm_tasks.read") and user_groups(maria) == frozenset()
        assert "[crm_tasks.root]" not in render_template_string(menu)

        db_session.rollback()  # undone: she is a representative again
        maria = db_session.scalar(select(User).where(User.login == "maria"))
        login_user(maria)
        assert has_permission("crm_tasks.read")
        assert "[crm_tasks.root]" in render_template_string(menu)

        rep = db_session.scalar(select(Group.id).where(Group.code == "sales_rep"))
        db_session.execute(  # a statement on the table, as the group form's save does
            delete(group_permission).where(
                group_permission.c.group_id == rep,
                group_permission.c.permission_code.like("crm_tasks.%"),
            )
        )
        assert not has_permission("crm_tasks.read")
        assert "[crm_tasks.root]" not in render_template_string(menu)
        db_session.rollback()


def test_record_rules_follow_a_change_of_groups_at_the_next_request(app):
    """The rules' conditions are built once per user and groups in a process: a representative
    made a manager sees every client at her next request, and back."""
    with app.app_context():
        from crm_contacts.models import Client

        peter = db_session.scalar(select(User.id).where(User.login == "peter"))
        db_session.add(Client(name="Bioprom Other", responsible_id=peter))
        db_session.commit()
    maria = logged_in(app, "maria")

    def names() -> list[str]:
        return sorted(c["name"] for c in maria.get("/api/v1/clients").get_json()["items"])

    assert names() == ["Bioprom"]
    _set_groups(app, "maria", ("sales_rep", "sales_manager"))
    assert names() == ["Bioprom", "Bioprom Other"]
    _set_groups(app, "maria", ("sales_rep",))
    assert names() == ["Bioprom"]


def test_two_representatives_alternating_each_see_only_their_own(app):
    """Their pages run the same statements with different bound values: SQLAlchemy compiles each
    once and the record rules' options give each request its user's values (their cache keys are
    computed once per user and replayed: core.record_rules._CriteriaOption). A person belongs to
    a client (``owned_by``): her condition is the client's, as a subquery."""
    with app.app_context():
        from crm_contacts.models import Client, Person

        peter = db_session.scalar(select(User.id).where(User.login == "peter"))
        other = Client(name="Peters Shop", responsible_id=peter)
        mine = db_session.scalar(select(Client).where(Client.name == "Bioprom"))
        db_session.add_all([other, Person(client=mine, name="Ivan Marin"),
                            Person(client=other, name="Petar Petrov")])  # fmt: skip
        db_session.commit()
        clients = {"maria": mine.id, "peter": other.id}
        persons = {
            login: db_session.scalar(select(Person.id).where(Person.client_id == client))
            for login, client in clients.items()
        }
    browsers = {login: logged_in(app, login) for login in ("maria", "peter")}
    own = {"maria": ("Bioprom", "Ivan Marin"), "peter": ("Peters Shop", "Petar Petrov")}
    for _ in range(3):
        for login, browser in browsers.items():
            other_login = "peter" if login == "maria" else "maria"
            names = [c["name"] for c in browser.get("/api/v1/clients").get_json()["items"]]
            assert names == [own[login][0]]
            page = browser.get(f"/contacts/clients/{clients[login]}").get_data(as_text=True)
            assert own[login][1] in page and own[other_login][1] not in page
            assert browser.get(f"/api/v1/persons/{persons[login]}").status_code == 200
            assert browser.get(f"/api/v1/persons/{persons[other_login]}").status_code == 404
            assert browser.get(f"/contacts/clients/{clients[other_login]}").status_code == 404
