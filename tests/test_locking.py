"""Optimistic locking: a save over a stale version is refused with 409 and the current values;
nothing is silently overwritten, in the web form as in the JSON API."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event, select, update

from core.db import db_session
from core.locking import CHANGED, Conflict, check_version
from core.models import AuditEntry
from core.testing import logged_in, make_user
from tests.helpers import client_edit_form


@pytest.fixture
def app(crm_app_factory):
    app = crm_app_factory(["crm_contacts"])
    maria = make_user(app, "maria", groups=("sales_rep",))
    make_user(app, "georgi", groups=("sales_manager",))
    with app.app_context():
        from crm_contacts.models import Client

        client = Client(name="Bioprom", legal_name="Bioprom Plovdiv Ltd", responsible_id=maria)
        db_session.add(client)
        db_session.commit()
        app.client_id = client.id
    return app


def _stored(app):
    with app.app_context():
        from crm_contacts.models import Client

        client = db_session.get(Client, app.client_id)
        return client.name, client.legal_name, client.version


def test_second_save_of_the_same_form_is_a_conflict_with_the_current_values(app):
    url = f"/contacts/clients/{app.client_id}/edit"
    maria, georgi = logged_in(app, "maria"), logged_in(app, "georgi")
    maria_form = client_edit_form(maria, app.client_id)
    georgi_form = client_edit_form(georgi, app.client_id)
    assert maria_form["version"] == georgi_form["version"] == "1"

    first = georgi.post(
        url, data={**georgi_form, "name": "Bioprom Group", "legal_name": "Bioprom Sofia Ltd"}
    )
    assert first.status_code == 302

    second = maria.post(url, data={**maria_form, "name": "Bioprom Maria"})
    assert second.status_code == 409
    page = second.get_data(as_text=True)
    assert "changed by someone else" in page
    current = page[page.index('data-testid="current-values"') :]
    # The record as it is now, and what maria typed, so that she can redo her change.
    assert (
        "Bioprom Group" in current and "Bioprom Sofia Ltd" in current and "Bioprom Maria" in current
    )
    assert f'href="{url}"' in page

    assert _stored(app) == ("Bioprom Group", "Bioprom Sofia Ltd", 2)
    with app.app_context():
        logins = set(
            db_session.scalars(select(AuditEntry.user_login).where(AuditEntry.action == "update"))
        )
    assert logins == {"georgi"}

    # Reopened, the form carries the new version and saves.
    again = client_edit_form(maria, app.client_id)
    assert again["version"] == "2" and again["name"] == "Bioprom Group"
    assert maria.post(url, data={**again, "name": "Bioprom Maria"}).status_code == 302
    assert _stored(app) == ("Bioprom Maria", "Bioprom Sofia Ltd", 3)


def test_form_without_a_version_is_refused(app):
    maria = logged_in(app, "maria")
    form = client_edit_form(maria, app.client_id)
    del form["version"]
    url = f"/contacts/clients/{app.client_id}/edit"
    assert maria.post(url, data={**form, "name": "Blind"}).status_code == 409
    assert _stored(app) == ("Bioprom", "Bioprom Plovdiv Ltd", 1)


def test_api_patch_with_a_stale_version_is_a_409_with_the_current_values(app):
    url = f"/api/v1/clients/{app.client_id}"
    maria, georgi = logged_in(app, "maria"), logged_in(app, "georgi")
    read = maria.get(url).get_json()
    assert read["version"] == 1

    done = georgi.patch(url, json={"version": 1, "legal_name": "Bioprom Varna Ltd"})
    assert done.status_code == 200
    assert done.get_json()["version"] == 2 and done.get_json()["legal_name"] == "Bioprom Varna Ltd"

    stale = maria.patch(url, json={"version": read["version"], "legal_name": "Bioprom Ruse Ltd"})
    assert stale.status_code == 409
    body = stale.get_json()
    assert body["errors"]["version"] == [CHANGED]
    assert body["current"]["legal_name"] == "Bioprom Varna Ltd" and body["current"]["version"] == 2
    assert body["current"]["name"] == "Bioprom"
    assert _stored(app) == ("Bioprom", "Bioprom Varna Ltd", 2)


def test_api_patch_with_the_current_version_changes_only_what_it_names(app):
    url = f"/api/v1/clients/{app.client_id}"
    georgi = logged_in(app, "georgi")
    response = georgi.patch(url, json={"version": 1, "name": "Bioprom AD"})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["name"], body["legal_name"], body["version"]) == (
        "Bioprom AD",
        "Bioprom Plovdiv Ltd",
        2,
    )
    assert georgi.get(url).get_json()["version"] == 2

    missing = georgi.patch(url, json={"name": "No version"})
    assert missing.status_code == 400 and "version" in missing.get_json()["errors"]
    invalid = georgi.patch(url, json={"version": 2, "name": "", "status": "vip"})
    assert invalid.status_code == 400
    assert set(invalid.get_json()["errors"]) == {"name", "status"}
    assert _stored(app) == ("Bioprom AD", "Bioprom Plovdiv Ltd", 2)


@contextmanager
def _concurrent_save_before_flush(app, name):
    """Another worker saves the client after this request checked the version, before it flushes:
    the check passes, the UPDATE filtered on the version read matches no row."""
    from crm_contacts.models import Client

    factory = app.extensions["crm"].session_factory

    def other_worker(session, _context, _instances):
        session.connection().execute(
            update(Client.__table__)
            .where(Client.__table__.c.id == app.client_id)
            .values(name=name, version=Client.__table__.c.version + 1)
        )

    event.listen(factory, "before_flush", other_worker)
    try:
        yield
    finally:
        event.remove(factory, "before_flush", other_worker)


def test_concurrent_flush_is_a_409_not_an_overwrite(app):
    maria = logged_in(app, "maria")
    form = client_edit_form(maria, app.client_id)
    url = f"/contacts/clients/{app.client_id}/edit"
    with _concurrent_save_before_flush(app, "Bioprom Other"):
        page = maria.post(url, data={**form, "name": "Bioprom Maria"})
        api = maria.patch(f"/api/v1/clients/{app.client_id}", json={"version": 1, "name": "Api"})
    assert page.status_code == 409 and "changed by someone else" in page.get_data(as_text=True)
    assert api.status_code == 409
    assert api.get_json()["errors"]["version"] == [CHANGED]
    # The simulated worker shared this request's transaction, so its change was rolled back too.
    assert api.get_json()["current"]["version"] == 1
    assert _stored(app) == ("Bioprom", "Bioprom Plovdiv Ltd", 1)


def test_check_version(app):
    with app.app_context():
        from crm_contacts.models import Client

        client = db_session.get(Client, app.client_id)
        check_version(client, "1")
        check_version(client, 1)
        for stale in (2, "2", None, "", "x", True):
            with pytest.raises(Conflict) as raised:
                check_version(client, stale)
            assert raised.value.code == 409 and raised.value.record is client
