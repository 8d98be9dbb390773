"""No lost update: every form and API write of an existing record carries the version it was read
at, a stale one is refused (409, nothing written), and simultaneous writes on SQLite wait for each
other instead of failing with "database is locked"."""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from core.db import db_session
from core.locking import CHANGED, MISSING
from core.models import Group, User
from core.testing import form_fields, logged_in, make_user

MODULES = ["crm_contacts", "crm_contracts", "crm_sales", "crm_tasks"]


@pytest.fixture
def app(crm_app_factory):
    app = crm_app_factory(MODULES)
    make_user(app, "root", groups=("admin",))
    make_user(app, "maria", groups=("sales_rep",))
    with app.app_context():
        from crm_contacts.models import Client, ContactType, CustomerGroup, Person
        from crm_contracts.models import ContractType
        from crm_sales.models import ProductGroup
        from crm_tasks.models import CommitmentType

        client = Client(name="Bioprom")
        client.persons.append(Person(name="Elena Ionescu", position="Buyer"))
        db_session.add_all(
            [client, CustomerGroup(name="Key accounts"), ProductGroup(code="DAIRY", name="Dairy")]
        )
        db_session.commit()
        app.ids = {
            "client": client.id,
            "person": client.persons[0].id,
            "customer_group": db_session.scalar(
                select(CustomerGroup.id).where(CustomerGroup.name == "Key accounts")
            ),
            "contact_type": db_session.scalar(select(ContactType.id).order_by(ContactType.id)),
            "contract_type": db_session.scalar(select(ContractType.id).order_by(ContractType.id)),
            "commitment_type": db_session.scalar(
                select(CommitmentType.id).order_by(CommitmentType.id)
            ),
            "product_group": db_session.scalar(select(ProductGroup.id)),
            "user": db_session.scalar(select(User.id).where(User.login == "maria")),
            "group": db_session.scalar(select(Group.id).where(Group.code == "sales_rep")),
        }
    return app


def _name(model_path: str):
    module, _, name = model_path.rpartition(".")

    def read(app, record_id: int) -> str:
        model = getattr(__import__(module, fromlist=[name]), name)
        with app.app_context():
            return db_session.get(model, record_id).name

    return read


# (the record's id key, its edit form's URL, what it is read back with)
FORMS = [
    ("customer_group", "/contacts/settings/customer-groups/{}/edit",
     _name("crm_contacts.models.CustomerGroup")),
    ("contact_type", "/contacts/settings/contact-types/{}/edit",
     _name("crm_contacts.models.ContactType")),
    ("contract_type", "/contracts/settings/types/{}/edit",
     _name("crm_contracts.models.ContractType")),
    ("commitment_type", "/tasks/settings/types/{}/edit",
     _name("crm_tasks.models.CommitmentType")),
    ("product_group", "/sales/groups/{}/edit", _name("crm_sales.models.ProductGroup")),
    ("user", "/settings/users/{}", _name("core.models.User")),
    ("group", "/settings/groups/{}", _name("core.models.Group")),
]  # fmt: skip


def _edit_form(client, url: str):
    """The fields of the page's edit form, which posts to ``url`` or to the page itself."""
    page = client.get(url).get_data(as_text=True)
    if f'action="{url}"' in page:
        return form_fields(page, action=url)
    return form_fields(page[page.index("<main") :])


@pytest.mark.parametrize(("key", "url", "read"), FORMS, ids=[f[0] for f in FORMS])
def test_a_settings_form_saved_over_someone_elses_change_is_refused(app, key, url, read):
    url = url.format(app.ids[key])
    first, second = logged_in(app, "root"), logged_in(app, "root")
    first_form, second_form = _edit_form(first, url), _edit_form(second, url)
    assert first_form["version"] == second_form["version"] == "1"

    saved = first.post(url, data={**first_form, "name": "Saved first"})
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]

    stale = second.post(url, data={**second_form, "name": "Saved over it"})
    assert stale.status_code == 409
    page = stale.get_data(as_text=True)
    assert CHANGED.split(":")[0] in page
    current = page[page.index('data-testid="current-values"') :]
    assert "Saved first" in current and "Saved over it" in current
    assert "password" not in current.lower()  # a user's hash never shows
    assert read(app, app.ids[key]) == "Saved first"

    # Without a version it is refused too: it cannot prove it saw the current values.
    blind = {k: v for k, v in second_form.items() if k != "version"}
    assert second.post(url, data={**blind, "name": "Blind"}).status_code == 409
    # Reopened, the form carries the new version and saves.
    again = _edit_form(second, url)
    assert int(again["version"]) > 1
    assert second.post(url, data={**again, "name": "Saved second"}).status_code == 302
    assert read(app, app.ids[key]) == "Saved second"


def test_logging_in_does_not_make_an_open_user_form_stale(app):
    url = f"/settings/users/{app.ids['user']}"
    root = logged_in(app, "root")
    form = _edit_form(root, url)
    logged_in(app, "maria")  # writes her last login
    assert root.post(url, data={**form, "name": "Maria P."}).status_code == 302


def test_api_person_patch_takes_the_version_read(app):
    url = f"/api/v1/persons/{app.ids['person']}"
    root, other = logged_in(app, "root"), logged_in(app, "root")
    read = root.get(url).get_json()
    assert read["version"] == 1

    done = other.patch(url, json={"version": 1, "position": "Head buyer"})
    assert done.status_code == 200 and done.get_json()["version"] == 2

    stale = root.patch(url, json={"version": 1, "position": "Owner"})
    assert stale.status_code == 409
    assert stale.get_json()["errors"]["version"] == [CHANGED]
    assert stale.get_json()["current"]["position"] == "Head buyer"
    missing = root.patch(url, json={"position": "Owner"})
    assert missing.status_code == 409 and missing.get_json()["errors"]["version"] == [MISSING]
    # Not a version: refused naming the field, or as stale; never a 500.
    for odd in (1e300, "1e999", True, [1], 1.5):
        answer = root.patch(url, json={"version": odd, "position": "Owner"})
        assert answer.status_code in (400, 409) and "version" in answer.get_json()["errors"]
    infinite = root.patch(url, data=b'{"version": 1e999}', content_type="application/json")
    assert infinite.status_code in (400, 409) and "version" in infinite.get_json()["errors"]
    stale_tag = root.patch(url, json={"position": "Owner"}, headers={"If-Match": '"1"'})
    assert stale_tag.status_code == 409

    tagged = root.patch(url, json={"position": "Owner"}, headers={"If-Match": 'W/"2"'})
    assert tagged.status_code == 200 and tagged.get_json()["position"] == "Owner"
    # The client file's forms are checked against the client's version: it moved on.
    client = root.get(f"/api/v1/clients/{app.ids['client']}").get_json()
    assert client["version"] == 3


def test_api_condition_put_takes_the_version_read(app):
    root = logged_in(app, "root")
    contract = root.post(
        "/api/v1/contracts",
        json={"client_id": app.ids["client"], "title": "Supply", "valid_from": "2027-01-01"},
    ).get_json()
    url = f"/api/v1/contracts/{contract['id']}/conditions"
    made = root.post(url, json={"kind": "discount", "group_code": "DAIRY", "discount_percent": 5})
    condition = made.get_json()
    assert made.status_code == 201 and condition["version"] == 1
    body = {"kind": "discount", "group_code": "DAIRY"}

    done = root.put(f"{url}/{condition['id']}", json={**body, "discount_percent": 7, "version": 1})
    assert done.status_code == 200 and done.get_json()["version"] == 2
    stale = root.put(f"{url}/{condition['id']}", json={**body, "discount_percent": 9, "version": 1})
    assert stale.status_code == 409
    assert stale.get_json()["current"]["discount_percent"] == "7.00"
    assert (
        root.put(f"{url}/{condition['id']}", json={**body, "discount_percent": 9}).status_code
        == 409
    )
    assert root.get(url).get_json()["items"][0]["discount_percent"] == "7.00"


def _sqlite_path(app) -> str | None:
    url = make_url(app.config["DATABASE_URL"])
    return url.database if url.get_backend_name() == "sqlite" else None


def test_twenty_simultaneous_patches_never_give_a_server_error(app):
    """Twenty representatives' PATCHes at the same moment, on twenty persons of one client (each
    also moves the client's version on): they wait for each other, none fails."""
    with app.app_context():
        from crm_contacts.models import Client, Person

        client = db_session.get(Client, app.ids["client"])
        client.persons.extend(Person(name=f"Person {n}") for n in range(19))
        db_session.commit()
        persons = [p.id for p in client.persons]
    clients = [logged_in(app, "root") for _ in persons]
    start = threading.Barrier(len(persons))
    statuses: list[int] = []

    def patch(client, person_id: int) -> None:
        start.wait()
        response = client.patch(
            f"/api/v1/persons/{person_id}", json={"version": 1, "notes": "updated"}
        )
        statuses.append(response.status_code)

    threads = [
        threading.Thread(target=patch, args=pair) for pair in zip(clients, persons, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert Counter(statuses) == {200: len(persons)}
    with app.app_context():
        from crm_contacts.models import Person

        notes = db_session.scalars(select(Person.notes).where(Person.id.in_(persons))).all()
        assert notes == ["updated"] * len(persons)


def test_a_database_locked_longer_than_the_busy_timeout_answers_503(crm_app_factory):
    """SQLite: a write that cannot get the lock within the busy timeout is a 503 with a message,
    and nothing is written."""
    probe = crm_app_factory(["crm_contacts"])
    path = _sqlite_path(probe)
    if path is None:
        pytest.skip("SQLite's write lock")
    app = crm_app_factory(["crm_contacts"], database_url=f"sqlite:///{path}?timeout=0.2")
    make_user(app, "root", groups=("admin",))
    with app.app_context():
        from crm_contacts.models import Client, Person

        client = Client(name="Bioprom", persons=[Person(name="Elena")])
        db_session.add(client)
        db_session.commit()
        person_id = client.persons[0].id
    root = logged_in(app, "root")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        busy = root.patch(f"/api/v1/persons/{person_id}", json={"version": 1, "notes": "x"})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert busy.status_code == 503
    assert busy.headers["Retry-After"]
    assert "try again in a moment" in busy.get_json()["errors"]["_schema"][0]
    done = root.patch(f"/api/v1/persons/{person_id}", json={"version": 1, "notes": "x"})
    assert done.status_code == 200
