"""Users, groups and permissions administered in the web UI, sessions that end when they must, and
the login redirect that stays on our own site."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from core.auth import load_user
from core.db import db_session
from core.models import Group, PermissionRecord, User
from core.testing import TEST_PASSWORD, logged_in, make_user

NEW_PASSWORD = "a brand new passphrase"


def _menu_ids(page: str) -> set[str]:
    return set(re.findall(r'data-menu-id="([^"]+)"', page))


def _user(app, login: str) -> User:
    with app.app_context():
        user = db_session.scalar(select(User).where(User.login == login))
        db_session.expunge_all()
        return user


def _group_id(app, code: str) -> int:
    with app.app_context():
        return db_session.scalar(select(Group.id).where(Group.code == code))


def _version(app, model, record_id: int) -> str:
    """The version an edit form opened now would carry."""
    with app.app_context():
        return str(db_session.get(model, record_id).version)


def _user_count(app) -> int:
    with app.app_context():
        return db_session.scalar(select(func.count()).select_from(User))


def _logged_in(client) -> bool:
    """Whether the client's session still opens a page that needs a logged-in user."""
    return client.get("/account/password").status_code == 200


@pytest.fixture
def app(crm_app_factory):
    app = crm_app_factory(["crm_tasks"])
    make_user(app, "root", groups=("admin",))
    make_user(app, "maria", groups=("sales_rep",))
    return app


@pytest.fixture
def root(app):
    return logged_in(app, "root")


def _new_user_form(**overrides):
    form = {
        "login": "nina",
        "name": "Nina Petrova",
        "email": "nina@example.com",
        "password": NEW_PASSWORD,
        "password_confirm": NEW_PASSWORD,
    }
    form.update(overrides)
    return form


# --- the journey --------------------------------------------------------------------------------


def test_administrator_creates_a_user_in_a_group_who_sees_exactly_its_menus(app, root):
    """Elena creates a group with only "Read clients", creates a user in it, and the user sees the
    Clients menus and nothing else: no Tasks, no Settings (Apps, Users, Groups)."""
    page = root.get("/").get_data(as_text=True)
    assert {"core.users", "core.groups", "crm_tasks.root"} <= _menu_ids(page)

    created = root.post(
        "/settings/groups/new",
        data={"code": "readers", "name": "Client readers", "permissions": ["crm_contacts.read"]},
    )
    assert created.status_code == 302
    readers = _group_id(app, "readers")
    response = root.post("/settings/users/new", data=_new_user_form(groups=[str(readers)]))
    assert response.status_code == 302
    listing = root.get("/settings/users?q=nina").get_data(as_text=True)
    assert 'data-user="nina"' in listing and "Client readers" in listing

    # What a user in no group sees: the personal entries (own password, API tokens) only.
    make_user(app, "nobody")
    personal = _menu_ids(logged_in(app, "nobody").get("/").get_data(as_text=True))
    assert "core.account_password" in personal
    assert not personal & {"core.apps", "core.users", "core.groups", "core.record_rules"}
    assert not any(menu.startswith(("crm_contacts", "crm_tasks")) for menu in personal)

    nina = logged_in(app, "nina", NEW_PASSWORD)
    # Exactly the entries that crm_contacts.read opens: the client list and one's agenda.
    assert _menu_ids(nina.get("/").get_data(as_text=True)) == personal | {
        "crm_contacts.root",
        "crm_contacts.clients",
        "crm_contacts.agenda",
    }
    assert nina.get("/contacts/clients").status_code == 200
    for forbidden in ("/tasks/", "/apps", "/settings/users", "/settings/groups"):
        assert nina.get(forbidden).status_code == 403, forbidden

    # Granting the group a permission shows its menu at the member's next page.
    root.post(
        f"/settings/groups/{readers}",
        data={
            "version": _version(app, Group, readers),
            "name": "Client readers",
            "permissions": ["crm_contacts.read", "crm_tasks.read"],
            "members": [str(_user(app, "nina").id)],
        },
    )
    assert {"crm_tasks.root", "crm_tasks.mine"} <= _menu_ids(nina.get("/").get_data(as_text=True))


def test_only_user_administrators_reach_the_administration(app):
    maria = logged_in(app, "maria")
    for url in ("/settings/users", "/settings/users/new", "/settings/groups", "/settings/groups/1"):
        assert maria.get(url).status_code == 403, url
    assert maria.post("/settings/users/new", data=_new_user_form()).status_code == 403
    assert _user_count(app) == 2
    assert maria.get("/account/password").status_code == 200
    assert app.test_client().get("/settings/users").status_code == 302  # to the login page


# --- users ---------------------------------------------------------------------------------------


def test_user_list_shows_groups_state_last_login_searches_and_paginates(app, root):
    for n in range(55):
        make_user(app, f"user{n:02d}")
    page = root.get("/settings/users").get_data(as_text=True)
    assert page.count("data-user=") == 50
    assert "Page 1 of 2" in page
    rows = re.findall(r'<tr data-user="root">(.*?)</tr>', page, re.S)
    assert "Administrator" in rows[0] and "active" in rows[0]
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", rows[0]), "root's last login is shown"
    second = root.get("/settings/users?page=2").get_data(as_text=True)
    assert second.count("data-user=") == 7
    by_name = root.get("/settings/users?q=mari").get_data(as_text=True)
    assert re.findall(r'data-user="([^"]+)"', by_name) == ["maria"]
    by_login = root.get("/settings/users?q=user1").get_data(as_text=True)
    assert by_login.count("data-user=") == 10
    # LIKE wildcards typed in the box are searched for literally.
    assert root.get("/settings/users?q=%25").get_data(as_text=True).count("data-user=") == 0


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"login": ""}, "login", "Required."),
        ({"login": "with space"}, "login", "without spaces"),
        ({"login": "MARIA"}, "login", "already taken"),
        ({"name": "  "}, "name", "Required."),
        ({"email": "not-an-email"}, "email", "Not a valid email address."),
        ({"password": "short", "password_confirm": "short"}, "password", "Between 10 and"),
        ({"password_confirm": "something else"}, "password_confirm", "differ"),
        ({"groups": ["999"]}, "groups", "Unknown group"),
        ({"groups": ["abc"]}, "groups", "Not a valid integer."),
    ],
)
def test_user_creation_refuses_bad_input_naming_the_field(app, root, overrides, field, message):
    response = root.post("/settings/users/new", data=_new_user_form(**overrides))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    errors = re.findall(r'<li data-field="([^"]+)"><strong>([^<]+)</strong>: ([^<]+)</li>', page)
    assert [e[0] for e in errors] == [field]
    assert message in errors[0][2]
    assert _user_count(app) == 2, "nothing is written"
    if field != "login":
        assert 'value="nina"' in page, "the form shows what was typed"
    assert NEW_PASSWORD not in page, "passwords are never sent back"


def test_user_is_created_with_email_groups_and_a_session_token(app, root):
    manager = _group_id(app, "sales_manager")
    response = root.post("/settings/users/new", data=_new_user_form(groups=[str(manager)]))
    assert response.status_code == 302
    with app.app_context():
        nina = db_session.scalar(select(User).where(User.login == "nina"))
        assert (nina.name, nina.email, nina.active) == ("Nina Petrova", "nina@example.com", True)
        assert [g.code for g in nina.groups] == ["sales_manager"]
        assert len(nina.session_token) == 32
        assert nina.get_id() == f"{nina.id}:{nina.session_token}"
    logged_in(app, "nina", NEW_PASSWORD)


def test_user_edit_changes_name_email_groups_or_nothing(app, root):
    maria = _user(app, "maria")
    manager, rep = _group_id(app, "sales_manager"), _group_id(app, "sales_rep")
    page = root.get(f"/settings/users/{maria.id}").get_data(as_text=True)
    assert re.search(rf'id="group-{rep}"\s+checked', page)
    assert not re.search(rf'id="group-{manager}"\s+checked', page)
    refused = root.post(
        f"/settings/users/{maria.id}",
        data={
            "version": _version(app, User, maria.id),
            "name": "Maria P.",
            "email": "bad",
            "groups": [str(manager)],
        },
    )
    assert refused.status_code == 400
    assert "<strong>Email</strong>: Not a valid email address." in refused.get_data(as_text=True)
    unchanged = _user(app, "maria")
    assert unchanged.name == "Maria" and unchanged.email == ""

    saved = root.post(
        f"/settings/users/{maria.id}",
        data={
            "version": _version(app, User, maria.id),
            "name": "Maria P.",
            "email": "maria@example.com",
            "groups": [str(manager)],
        },
    )
    assert saved.status_code == 302
    with app.app_context():
        user = db_session.get(User, maria.id)
        assert (user.name, user.email) == ("Maria P.", "maria@example.com")
        assert [g.code for g in user.groups] == ["sales_manager"]
    assert root.get("/settings/users/9999").status_code == 404


def test_deactivation_is_confirmed_and_ends_every_session_and_remember_cookie(app, root):
    maria = _user(app, "maria")
    remembered = app.test_client()
    remembered.post("/login", data={"login": "maria", "password": TEST_PASSWORD, "remember": "1"})
    cookie = remembered.get_cookie("remember_token")
    assert cookie is not None
    other_device = logged_in(app, "maria")
    # The remember cookie alone logs maria in, before the deactivation.
    fresh = app.test_client()
    fresh.set_cookie("remember_token", cookie.value)
    assert _logged_in(fresh)

    confirm = root.get(f"/settings/users/{maria.id}/deactivate")
    assert confirm.status_code == 200 and "Yes, deactivate maria" in confirm.get_data(as_text=True)
    assert _user(app, "maria").active, "opening the confirmation changes nothing"
    assert root.post(f"/settings/users/{maria.id}/deactivate").status_code == 302

    assert not _logged_in(remembered)
    assert not _logged_in(other_device)
    after = app.test_client()
    after.set_cookie("remember_token", cookie.value)
    assert not _logged_in(after)
    refused = app.test_client().post("/login", data={"login": "maria", "password": TEST_PASSWORD})
    assert refused.status_code == 401
    assert "deactivated" in root.get("/settings/users?q=maria").get_data(as_text=True)

    assert root.get(f"/settings/users/{maria.id}/reactivate").status_code == 200
    assert _user(app, "maria").active is False
    assert root.post(f"/settings/users/{maria.id}/reactivate").status_code == 302
    logged_in(app, "maria")
    # The cookie issued before the deactivation stays dead after the reactivation.
    late = app.test_client()
    late.set_cookie("remember_token", cookie.value)
    assert not _logged_in(late)


def test_administrators_cannot_lock_everybody_out(app, root):
    me = _user(app, "root")
    response = root.post(f"/settings/users/{me.id}/deactivate")
    assert response.status_code == 400
    assert "cannot deactivate your own account" in response.get_data(as_text=True)
    assert _user(app, "root").active

    # The only administrator taken out of the group, by the user form or the group form.
    refused = root.post(
        f"/settings/users/{me.id}",
        data={"version": _version(app, User, me.id), "name": "Root", "groups": []},
    )
    assert refused.status_code == 400
    assert "At least one active user must stay" in refused.get_data(as_text=True)
    admin = _group_id(app, "admin")
    refused = root.post(
        f"/settings/groups/{admin}",
        data={
            "version": _version(app, Group, admin),
            "name": "Administrator",
            "permissions": ["core.users"],
            "members": [],
        },
    )
    assert refused.status_code == 400
    assert "At least one active user must stay" in refused.get_data(as_text=True)
    assert root.get("/settings/users").status_code == 200, "still an administrator"

    # With a second administrator, the other one may be deactivated.
    other = make_user(app, "second", groups=("admin",))
    assert root.post(f"/settings/users/{other}/deactivate").status_code == 302


def test_password_reset_by_an_administrator_ends_the_users_sessions(app, root):
    maria = _user(app, "maria")
    session = logged_in(app, "maria")
    refused = root.post(
        f"/settings/users/{maria.id}/password",
        data={"password": "too short", "password_confirm": "too short"},
    )
    assert refused.status_code == 400
    assert "<strong>Password</strong>: Between 10" in refused.get_data(as_text=True)
    assert _logged_in(session), "a refused reset changes nothing"

    done = root.post(
        f"/settings/users/{maria.id}/password",
        data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    assert done.status_code == 302
    assert not _logged_in(session)
    old = app.test_client().post("/login", data={"login": "maria", "password": TEST_PASSWORD})
    assert old.status_code == 401
    logged_in(app, "maria", NEW_PASSWORD)
    assert _logged_in(root), "the administrator's own session is untouched"


def test_every_user_changes_their_own_password_and_stays_logged_in(app):
    here = app.test_client()
    here.post("/login", data={"login": "maria", "password": TEST_PASSWORD, "remember": "1"})
    cookie = here.get_cookie("remember_token").value
    elsewhere = logged_in(app, "maria")

    page = here.get("/account/password")
    assert page.status_code == 200 and "Current password" in page.get_data(as_text=True)
    cases = [
        ({"current_password": "wrong password!"}, "Current password", "not your current password"),
        ({"password": "short", "password_confirm": "short"}, "Password", "Between 10"),
        ({"password_confirm": "another one entirely"}, "Password again", "differ"),
    ]
    for overrides, label, message in cases:
        form = {
            "current_password": TEST_PASSWORD,
            "password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD,
            **overrides,
        }
        refused = here.post("/account/password", data=form)
        assert refused.status_code == 400
        assert f"<strong>{label}</strong>: " in refused.get_data(as_text=True)
        assert message in refused.get_data(as_text=True)
        assert _logged_in(elsewhere), "nothing changed"

    done = here.post(
        "/account/password",
        data={
            "current_password": TEST_PASSWORD,
            "password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD,
        },
    )
    assert done.status_code == 302
    assert _logged_in(here), "the user who changed it stays logged in"
    assert not _logged_in(elsewhere), "their other sessions end"
    old_cookie = app.test_client()
    old_cookie.set_cookie("remember_token", cookie)
    assert not _logged_in(old_cookie)
    # "Remember me" of this browser was renewed with the new token.
    renewed = here.get_cookie("remember_token").value
    assert renewed != cookie
    fresh = app.test_client()
    fresh.set_cookie("remember_token", renewed)
    assert _logged_in(fresh)
    logged_in(app, "maria", NEW_PASSWORD)


def test_load_user_refuses_a_stale_token_an_old_style_id_and_inactive_users(app):
    maria = _user(app, "maria")
    with app.app_context():
        assert load_user(f"{maria.id}:{maria.session_token}").login == "maria"
        assert load_user(f"{maria.id}:{'0' * 32}") is None
        assert load_user(str(maria.id)) is None
        assert load_user("nonsense") is None
        user = db_session.get(User, maria.id)
        user.active = False
        db_session.commit()
        assert load_user(f"{maria.id}:{maria.session_token}") is None


# --- groups --------------------------------------------------------------------------------------


def test_group_list_counts_members(app, root):
    make_user(app, "peter", groups=("sales_rep",))
    page = root.get("/settings/groups").get_data(as_text=True)
    counts = dict(
        re.findall(r'<tr data-group="([^"]+)">.*?data-testid="members">(\d+)<', page, re.S)
    )
    assert counts == {"admin": "1", "sales_manager": "0", "sales_rep": "2", "back_office": "0"}


def test_group_edit_shows_permissions_by_module_and_saves_name_permissions_members(app, root):
    rep = _group_id(app, "sales_rep")
    page = root.get(f"/settings/groups/{rep}").get_data(as_text=True)
    for module in ("core", "crm_contacts", "crm_tasks"):
        assert f'data-module="{module}"' in page
    assert re.search(r'value="crm_contacts.read" id="perm-crm_contacts.read"\s+checked', page)
    assert not re.search(r'value="core.users" id="perm-core.users"\s+checked', page)

    root_id, maria = _user(app, "root").id, _user(app, "maria").id
    saved = root.post(
        f"/settings/groups/{rep}",
        data={
            "version": _version(app, Group, rep),
            "name": "Representatives",
            "permissions": ["crm_contacts.read"],
            "members": [str(root_id)],
        },
    )
    assert saved.status_code == 302
    with app.app_context():
        group = db_session.get(Group, rep)
        assert group.name == "Representatives"
        assert [p.code for p in group.permissions] == ["crm_contacts.read"]
        assert [g.code for g in db_session.get(User, maria).groups] == []
        assert "sales_rep" in [g.code for g in db_session.get(User, root_id).groups]

    refused = root.post(
        f"/settings/groups/{rep}",
        data={"version": _version(app, Group, rep), "name": "", "permissions": [], "members": []},
    )
    assert refused.status_code == 400
    assert "<strong>Name</strong>: Required." in refused.get_data(as_text=True)
    with app.app_context():
        group = db_session.get(Group, rep)
        assert group.name == "Representatives" and len(group.permissions) == 1


def test_unknown_permissions_or_members_are_refused(app, root):
    rep = _group_id(app, "sales_rep")
    refused = root.post(
        f"/settings/groups/{rep}",
        data={
            "version": _version(app, Group, rep),
            "name": "Reps",
            "permissions": ["crm_nothing.read"],
            "members": ["12345"],
        },
    )
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert "<strong>Permissions</strong>: Unknown permission" in text
    assert "<strong>Members</strong>: Unknown user" in text
    with app.app_context():
        assert db_session.get(Group, rep).name == "Sales representative"


def test_administrator_group_keeps_user_management_and_cannot_be_deleted(app, root):
    admin = _group_id(app, "admin")
    page = root.get(f"/settings/groups/{admin}").get_data(as_text=True)
    assert re.search(r'value="core.users" id="perm-core.users"\s+checked disabled', page)
    assert "always keeps <code>core.users</code>" in page

    refused = root.post(
        f"/settings/groups/{admin}",
        data={
            "version": _version(app, Group, admin),
            "name": "Administrator",
            "permissions": ["core.modules"],
            "members": [str(_user(app, "root").id)],
        },
    )
    assert refused.status_code == 400
    assert "always keeps core.users" in refused.get_data(as_text=True)
    assert root.get("/settings/users").status_code == 200

    why = root.get(f"/settings/groups/{admin}/delete")
    assert why.status_code == 200
    assert "cannot be deleted: it holds the permission" in why.get_data(as_text=True)
    assert root.post(f"/settings/groups/{admin}/delete").status_code == 400
    assert _group_id(app, "admin") == admin


def test_group_creation_validates_the_code(app, root):
    for code, message in [
        ("Key Accounts", "Lowercase letters"),
        ("sales_rep", "exists already"),
        ("", "Required."),
    ]:
        response = root.post("/settings/groups/new", data={"code": code, "name": "Key accounts"})
        assert response.status_code == 400, code
        assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db_session.scalar(select(func.count()).select_from(Group)) == 4


def test_group_deletion_is_confirmed_and_keeps_the_users(app, root):
    rep = _group_id(app, "sales_rep")
    confirm = root.get(f"/settings/groups/{rep}/delete")
    text = confirm.get_data(as_text=True)
    assert "Its 1 member lose" in text
    # crm_contacts' record rule names the group: the administrator is told.
    assert "Sales representatives see only the clients" in text
    assert _group_id(app, "sales_rep") == rep
    assert root.post(f"/settings/groups/{rep}/delete").status_code == 302
    assert _group_id(app, "sales_rep") is None
    maria = _user(app, "maria")
    assert maria is not None
    with app.app_context():
        assert db_session.get(User, maria.id).groups == []


# --- the login redirect --------------------------------------------------------------------------


def test_login_goes_back_to_the_page_asked_for(app):
    client = app.test_client()
    asked = client.get("/settings/users?q=ma")
    assert asked.status_code == 302 and "/login" in asked.headers["Location"]
    login_page = asked.headers["Location"]
    done = client.post(login_page, data={"login": "root", "password": TEST_PASSWORD})
    assert done.status_code == 302
    assert done.headers["Location"] == "/settings/users?q=ma"


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example", "http://localhost/settings", "javascript:alert(1)"],
)
def test_login_never_redirects_to_another_site(app, target):
    client = app.test_client()
    done = client.post(
        "/login", query_string={"next": target}, data={"login": "root", "password": TEST_PASSWORD}
    )
    assert done.status_code == 302
    assert done.headers["Location"] == "/"


def test_administration_forms_carry_the_csrf_token(crm_app_factory):
    app = crm_app_factory(config={"WTF_CSRF_ENABLED": True})
    make_user(app, "root", groups=("admin",))
    client = app.test_client()

    def token(url: str) -> str:
        return re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).get_data(True))[1]

    login = {"login": "root", "password": TEST_PASSWORD, "csrf_token": token("/login")}
    assert client.post("/login", data=login).status_code == 302
    assert client.post("/settings/users/new", data=_new_user_form()).status_code == 400
    form = _new_user_form(csrf_token=token("/settings/users/new"))
    assert client.post("/settings/users/new", data=form).status_code == 302
    change = {
        "current_password": TEST_PASSWORD,
        "password": NEW_PASSWORD,
        "password_confirm": NEW_PASSWORD,
        "csrf_token": token("/account/password"),
    }
    assert client.post("/account/password", data=change).status_code == 302


def test_home_shows_only_the_applications_a_user_may_use(crm_app_factory):
    app = crm_app_factory(["crm_tasks", "crm_pricing"])
    make_user(app, "root", groups=("admin",))
    with app.app_context():
        group = Group(code="readers", name="Client readers")
        group.permissions = [db_session.get(PermissionRecord, "crm_contacts.read")]
        db_session.add(group)
        db_session.commit()
    make_user(app, "reader", groups=("readers",))
    reader = logged_in(app, "reader")
    tiles = reader.get("/").get_data(as_text=True)
    assert ">Contacts<" in tiles
    assert ">Tasks<" not in tiles and ">Pricing<" not in tiles
    admin = logged_in(app, "root")
    assert ">Pricing<" in admin.get("/").get_data(as_text=True)
