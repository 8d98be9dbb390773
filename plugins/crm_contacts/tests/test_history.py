"""crm_contacts: the contact history — logging, scheduling, marking done, editing and cancelling
contacts, the full history of a client, and the same through /api/v1/contacts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.db import db_session
from core.testing import form_fields, logged_in
from crm_contacts import agenda
from crm_contacts.models import Client, Contact, ContactType, Person

# A Wednesday morning: the clock the tests run at (the machine's clock is moved there).
NOW = datetime(2030, 5, 15, 8, 0, tzinfo=UTC)


@pytest.fixture
def app(sales_app):
    app, ids = sales_app, sales_app.ids
    with app.app_context():
        bioprom = Client(
            name="Bioprom",
            responsible_id=ids.maria,
            persons=[Person(name="Ivan Petrov", position="Buyer"), Person(name="Anna Ivanova")],
        )
        other = Client(
            name="Peter's client", responsible_id=ids.peter, persons=[Person(name="Stoyan")]
        )
        db_session.add_all([bioprom, other])
        db_session.commit()
        ids.bioprom, ids.other = bioprom.id, other.id
        ids.ivan, ids.anna = (p.id for p in bioprom.persons)
        ids.stoyan = other.persons[0].id
    return app


def _contacts(app, **where) -> list[Contact]:
    with app.app_context():
        stmt = select(Contact).filter_by(**where).order_by(Contact.id)
        contacts = db_session.scalars(stmt).all()
        for contact in contacts:  # loaded while the session is open
            _ = (contact.contact_type.code, [p.id for p in contact.persons])
        return contacts


def _count(app) -> int:
    with app.app_context():
        return db_session.scalar(select(func.count()).select_from(Contact))


def _add(app, client_id: int, user_id: int, **values) -> int:
    """A contact written straight to the database (for states a form cannot reach)."""
    with app.app_context():
        code = values.pop("type", "visit")
        contact_type = db_session.scalar(select(ContactType).where(ContactType.code == code))
        values.setdefault("starts_at", NOW - timedelta(days=1))
        contact = Contact(client_id=client_id, user_id=user_id, contact_type=contact_type, **values)
        db_session.add(contact)
        db_session.commit()
        return contact.id


def _version(app, contact_id: int) -> int:
    with app.app_context():
        return db_session.get(Contact, contact_id).version


def _no_inline_code(page: str) -> None:
    assert "style=" not in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert not re.search(r"<[^>]*\son[a-z]+\s*=", page)


def _field_error(page: str, field: str) -> str:
    found = re.search(rf'data-field="{field}">([^<]*)<', page)
    assert found, f"no message for {field}"
    return found.group(1)


# --- logging a contact ----------------------------------------------------------------------------


def test_a_representative_logs_a_phone_call_of_25_minutes_with_a_contact_person(app):
    ids = app.ids
    maria = logged_in(app, "maria")
    url = f"/contacts/clients/{ids.bioprom}/contacts/new"
    page = maria.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<input type="hidden" name="csrf_token"' in html
    _no_inline_code(html)
    assert "Date and time (UTC)" in html
    # The types in their configured order; the client's persons as checkboxes.
    assert re.findall(r'<option value="([a-z_]+)"', html)[:3] == ["visit", "meeting", "phone_call"]
    assert f'name="person_ids" value="{ids.ivan}"' in html
    assert f'value="{ids.stoyan}"' not in html
    form = form_fields(html, action=url)
    assert form["starts_at"] == "2030-05-15T08:00" and form["duration_minutes"] == "30"

    answer = maria.post(
        url,
        data={
            **form,
            "contact_type": "phone_call",
            "starts_at": "2030-05-15T07:30",
            "duration_minutes": "25",
            "person_ids": [str(ids.ivan)],
            "subject": "Prices for the new range",
            "notes": "Wants a quote for 500 units.",
            "outcome": "Send an offer by Friday",
            "follow_up_date": "2030-05-17",
        },
    )
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"/contacts/clients/{ids.bioprom}"
    [call] = _contacts(app)
    assert call.contact_type.code == "phone_call" and call.state == "done"
    assert call.duration_minutes == 25 and call.user_id == ids.maria
    assert [p.id for p in call.persons] == [ids.ivan]
    assert agenda.aware(call.starts_at) == datetime(2030, 5, 15, 7, 30, tzinfo=UTC)
    assert (call.subject, call.outcome, call.follow_up_date.isoformat()) == (
        "Prices for the new range",
        "Send an offer by Friday",
        "2030-05-17",
    )

    history = maria.get(f"/contacts/clients/{ids.bioprom}/contacts").get_data(as_text=True)
    assert "Phone call" in history and "Ivan Petrov" in history and "Maria" in history
    assert "Send an offer by Friday" in history and ">25<" in history


def test_the_api_logs_a_phone_call_of_25_minutes(app):
    ids = app.ids
    maria = logged_in(app, "maria")
    answer = maria.post(
        "/api/v1/contacts",
        json={
            "client_id": ids.bioprom,
            "contact_type": "phone_call",
            "starts_at": "2030-05-15T09:30:00+02:00",
            "duration_minutes": 25,
            "person_ids": [ids.ivan],
            "notes": "Wants a quote.",
            "outcome": "Offer by Friday",
        },
    )
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert answer.headers["Location"] == f"/api/v1/contacts/{body['id']}"
    assert body["starts_at"] == "2030-05-15T07:30:00+00:00"  # stored and answered in UTC
    assert body["contact_type"] == "phone_call" and body["state"] == "done"
    assert body["user_id"] == ids.maria and body["client_name"] == "Bioprom"
    assert body["persons"] == [{"id": ids.ivan, "name": "Ivan Petrov"}]
    assert (body["duration_minutes"], body["version"]) == (25, 1)
    assert maria.get(f"/api/v1/contacts/{body['id']}").get_json() == body


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("duration_minutes", "0", "Between 1 and 1440 minutes."),
        ("contact_type", "carrier_pigeon", "No such contact type."),
        ("person_ids", "stoyan", "Only contact persons of this client can take part."),
        ("starts_at", "next tuesday", "Not a date and time."),
        ("follow_up_date", "someday", "Not a valid date."),
    ],
)
def test_the_form_refuses_invalid_input_naming_the_field(app, field, value, message):
    ids = app.ids
    maria = logged_in(app, "maria")
    url = f"/contacts/clients/{ids.bioprom}/contacts/new"
    form = form_fields(maria.get(url).get_data(as_text=True), action=url)
    posted = str(ids.stoyan) if value == "stoyan" else value
    answer = maria.post(url, data={**form, "subject": "Kept", field: posted})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "Nothing was saved" in page
    assert _field_error(page, field) == message
    assert 'value="Kept"' in page  # what was typed is shown again
    assert _count(app) == 0


def test_every_wrong_field_is_named_at_once(app):
    ids = app.ids
    maria = logged_in(app, "maria")
    url = f"/contacts/clients/{ids.bioprom}/contacts/new"
    form = form_fields(maria.get(url).get_data(as_text=True), action=url)
    wrong = {"duration_minutes": "0", "person_ids": [str(ids.ivan), str(ids.stoyan)]}
    page = maria.post(url, data={**form, **wrong}).get_data(as_text=True)
    assert _field_error(page, "duration_minutes") == "Between 1 and 1440 minutes."
    assert _field_error(page, "person_ids").startswith("Only contact persons of this client")
    answer = maria.post(
        "/api/v1/contacts",
        json={
            "client_id": ids.bioprom,
            "contact_type": "visit",
            "starts_at": "2030-05-15T07:00:00Z",
            "duration_minutes": 0,
            "person_ids": [ids.stoyan],
        },
    )
    assert set(answer.get_json()["errors"]) == {"duration_minutes", "person_ids"}
    assert _count(app) == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("duration_minutes", 0, "Between 1 and 1440 minutes."),
        ("contact_type", "carrier_pigeon", "No such contact type."),
        ("person_ids", "stoyan", "Only contact persons of this client can take part."),
        ("starts_at", "2030-05-15T09:30:00", "Give the time with its offset"),
        ("state", "cancelled", "A new contact is either done or scheduled."),
    ],
)
def test_the_api_refuses_invalid_input_naming_the_field(app, field, value, message):
    ids = app.ids
    maria = logged_in(app, "maria")
    body = {
        "client_id": ids.bioprom,
        "contact_type": "visit",
        "starts_at": "2030-05-15T07:00:00Z",
        field: [ids.stoyan] if value == "stoyan" else value,
    }
    answer = maria.post("/api/v1/contacts", json=body)
    assert answer.status_code == 400
    errors = answer.get_json()["errors"]
    assert list(errors) == [field]
    assert errors[field][0].startswith(message)
    assert _count(app) == 0


def test_scheduling_ahead_hides_the_outcome_and_refuses_the_past(app):
    ids = app.ids
    maria = logged_in(app, "maria")
    url = f"/contacts/clients/{ids.bioprom}/contacts/new?state=scheduled"
    html = maria.get(url).get_data(as_text=True)
    assert 'name="outcome"' not in html
    form = form_fields(html, action=url)
    assert form["starts_at"] == "2030-05-16T09:00"  # tomorrow morning

    past = maria.post(url, data={**form, "starts_at": "2030-05-14T09:00"})
    assert past.status_code == 400
    assert _field_error(past.get_data(as_text=True), "starts_at").startswith(
        "A scheduled contact cannot be in the past"
    )
    api_past = maria.post(
        "/api/v1/contacts",
        json={
            "client_id": ids.bioprom,
            "contact_type": "visit",
            "state": "scheduled",
            "starts_at": "2030-05-01T09:00:00Z",
        },
    )
    assert api_past.status_code == 400 and list(api_past.get_json()["errors"]) == ["starts_at"]
    assert _count(app) == 0

    planned = maria.post(url, data={**form, "outcome": "ignored", "then": "schedule"})
    assert planned.status_code == 302
    # "Schedule the next one" leads to a new plan of the same type.
    assert planned.headers["Location"] == (
        f"/contacts/clients/{ids.bioprom}/contacts/new?state=scheduled&type=visit"
    )
    [contact] = _contacts(app)
    assert (contact.state, contact.outcome) == ("scheduled", "")


# --- marking done, editing, cancelling ------------------------------------------------------------


def test_marking_a_scheduled_contact_done(app):
    ids = app.ids
    contact_id = _add(
        app, ids.bioprom, ids.maria, state="scheduled", starts_at=NOW + timedelta(hours=2)
    )
    maria = logged_in(app, "maria")
    url = f"/contacts/contacts/{contact_id}/done"
    html = maria.get(url).get_data(as_text=True)
    _no_inline_code(html)
    form = form_fields(html, action=url)
    assert form["version"] == "1" and form["duration_minutes"] == "30"
    assert "contact_type" not in form

    refused = maria.post(url, data={**form, "duration_minutes": "0"})
    assert refused.status_code == 400
    assert _contacts(app)[0].state == "scheduled"

    done = maria.post(
        url, data={**form, "duration_minutes": "45", "notes": "Met the buyer.", "outcome": "Order"}
    )
    assert done.status_code == 302
    assert done.headers["Location"] == f"/contacts/clients/{ids.bioprom}"
    [contact] = _contacts(app)
    assert (contact.state, contact.duration_minutes, contact.notes, contact.outcome) == (
        "done",
        45,
        "Met the buyer.",
        "Order",
    )
    assert contact.version == 2
    # Done is done: marking it again, or cancelling it, changes nothing.
    again = maria.get(url)
    assert again.status_code == 302
    assert maria.post(f"/contacts/contacts/{contact_id}/cancel", data={"version": "2"}).status_code
    assert _contacts(app)[0].state == "done"


def test_marking_done_through_the_api(app):
    ids = app.ids
    contact_id = _add(
        app, ids.bioprom, ids.maria, state="scheduled", starts_at=NOW + timedelta(days=1)
    )
    maria = logged_in(app, "maria")
    url = f"/api/v1/contacts/{contact_id}"
    without_version = maria.patch(url, json={"state": "done"})
    assert without_version.status_code == 400
    assert list(without_version.get_json()["errors"]) == ["version"]

    done = maria.patch(
        url,
        json={"state": "done", "notes": "Met him.", "outcome": "Order", "version": 1},
    )
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert (body["state"], body["notes"], body["outcome"], body["version"]) == (
        "done",
        "Met him.",
        "Order",
        2,
    )
    back = maria.patch(url, json={"state": "scheduled", "version": 2})
    assert back.status_code == 400
    assert back.get_json()["errors"] == {
        "state": ["A contact that is done cannot become scheduled."]
    }

    stale = maria.patch(url, json={"notes": "Overwrite", "version": 1})
    assert stale.status_code == 409
    assert stale.get_json()["current"]["notes"] == "Met him."
    assert _contacts(app)[0].notes == "Met him."


def test_a_stale_edit_is_refused_with_409(app):
    ids = app.ids
    contact_id = _add(app, ids.bioprom, ids.maria, subject="First", notes="Original")
    maria = logged_in(app, "maria")
    url = f"/contacts/contacts/{contact_id}/edit"
    html = maria.get(url).get_data(as_text=True)
    _no_inline_code(html)
    form = form_fields(html, action=url)
    assert form["version"] == "1" and form["subject"] == "First" and form["notes"] == "Original"

    # Somebody else saves in between.
    georgi = logged_in(app, "georgi")
    other = form_fields(georgi.get(url).get_data(as_text=True), action=url)
    assert georgi.post(url, data={**other, "notes": "Georgi's note"}).status_code == 302

    stale = maria.post(url, data={**form, "notes": "Maria's note"})
    assert stale.status_code == 409
    assert "Georgi&#39;s note" in stale.get_data(as_text=True)
    [contact] = _contacts(app)
    assert (contact.notes, contact.version) == ("Georgi's note", 2)

    fresh = form_fields(maria.get(url).get_data(as_text=True), action=url)
    saved = maria.post(url, data={**fresh, "notes": "Maria's note", "person_ids": [str(ids.anna)]})
    assert saved.status_code == 302
    [contact] = _contacts(app)
    assert (contact.notes, [p.id for p in contact.persons]) == ("Maria's note", [ids.anna])
    assert contact.state == "done"  # the edit form never changes the state
    trail = maria.get(url).get_data(as_text=True)
    assert "Changes to this contact" in trail and 'data-field="notes"' in trail


def test_cancelling_a_scheduled_contact_asks_first(app):
    ids = app.ids
    contact_id = _add(
        app, ids.bioprom, ids.maria, state="scheduled", starts_at=NOW + timedelta(days=1)
    )
    maria = logged_in(app, "maria")
    url = f"/contacts/contacts/{contact_id}/cancel"
    confirm = maria.get(url)
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "Cancel this scheduled contact?" in html
    _no_inline_code(html)
    assert _contacts(app)[0].state == "scheduled"  # looking is not cancelling

    form = form_fields(html, action=url)
    assert maria.post(url, data={**form, "version": "0"}).status_code == 409
    answer = maria.post(url, data=form)
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"/contacts/clients/{ids.bioprom}"
    assert _contacts(app)[0].state == "cancelled"


# --- who may see what -----------------------------------------------------------------------------


def test_a_rep_cannot_see_or_log_contacts_of_another_reps_client(app):
    ids = app.ids
    theirs = _add(app, ids.other, ids.peter, subject="Peter's visit")
    planned = _add(app, ids.other, ids.peter, state="scheduled", starts_at=NOW + timedelta(days=1))
    maria = logged_in(app, "maria")
    for url in (
        f"/contacts/clients/{ids.other}/contacts/new",
        f"/contacts/clients/{ids.other}/contacts",
        f"/contacts/contacts/{theirs}/edit",
        f"/contacts/contacts/{planned}/done",
        f"/contacts/contacts/{planned}/cancel",
        f"/api/v1/contacts/{theirs}",
    ):
        assert maria.get(url).status_code == 404, url
    log = {"contact_type": "visit", "starts_at": "2030-05-15T07:00", "duration_minutes": "30"}
    assert maria.post(f"/contacts/clients/{ids.other}/contacts/new", data=log).status_code == 404
    cancel = maria.post(f"/contacts/contacts/{planned}/cancel", data={"version": "1"})
    assert cancel.status_code == 404
    assert maria.patch(f"/api/v1/contacts/{theirs}", json={"version": 1}).status_code == 404
    created = maria.post(
        "/api/v1/contacts",
        json={"client_id": ids.other, "contact_type": "visit", "starts_at": "2030-05-15T07:00Z"},
    )
    assert created.status_code == 400
    assert created.get_json()["errors"] == {"client_id": ["No such client."]}
    listed = maria.get("/api/v1/contacts").get_json()
    assert listed["items"] == [] and listed["meta"]["total"] == 0
    assert _version(app, planned) == 1 and _count(app) == 2

    # The manager sees every client's history.
    georgi = logged_in(app, "georgi")
    assert georgi.get(f"/contacts/clients/{ids.other}/contacts").status_code == 200
    assert georgi.get(f"/api/v1/contacts/{theirs}").status_code == 200
    assert georgi.get("/api/v1/contacts").get_json()["meta"]["total"] == 2


def test_deleting_through_the_api_needs_the_delete_permission(app):
    ids = app.ids
    contact_id = _add(app, ids.bioprom, ids.maria)
    assert logged_in(app, "maria").delete(f"/api/v1/contacts/{contact_id}").status_code == 403
    georgi = logged_in(app, "georgi")
    assert georgi.delete(f"/api/v1/contacts/{contact_id}").status_code == 204
    assert georgi.delete(f"/api/v1/contacts/{contact_id}").status_code == 404
    assert _count(app) == 0


# --- the full history -----------------------------------------------------------------------------


def test_the_history_is_paginated_newest_first_with_filters(app):
    ids = app.ids
    maria = logged_in(app, "maria")
    url = f"/contacts/clients/{ids.bioprom}/contacts"
    empty = maria.get(url).get_data(as_text=True)
    assert "No contact with Bioprom has been logged yet." in empty
    _no_inline_code(empty)

    for day in range(30):
        _add(
            app,
            ids.bioprom,
            ids.maria,
            type="phone_call" if day % 3 == 0 else "visit",
            subject=f"Contact {day:02d}",
            starts_at=NOW - timedelta(days=day + 1),
        )
    _add(app, ids.other, ids.peter, subject="Elsewhere")
    first = maria.get(url).get_data(as_text=True)
    subjects = re.findall(r"<div>(Contact \d\d)</div>", first)
    assert subjects == [f"Contact {d:02d}" for d in range(25)]
    assert "Page 1 of 2" in first and "Elsewhere" not in first
    second = maria.get(f"{url}?page=2").get_data(as_text=True)
    assert re.findall(r"<div>(Contact \d\d)</div>", second) == [
        f"Contact {d:02d}" for d in range(25, 30)
    ]
    calls = maria.get(f"{url}?type=phone_call").get_data(as_text=True)
    assert re.findall(r"<div>(Contact \d\d)</div>", calls) == [
        f"Contact {d:02d}" for d in range(0, 30, 3)
    ]
    assert "No contact matches these filters." in maria.get(f"{url}?state=cancelled").get_data(
        as_text=True
    )
    assert maria.get(f"{url}?state=lost").status_code == 404


def test_the_history_page_runs_a_bounded_number_of_queries(app, count_queries):
    ids = app.ids
    maria = logged_in(app, "maria")
    url = f"/contacts/clients/{ids.bioprom}/contacts"
    _add(app, ids.bioprom, ids.maria)
    maria.get(url)  # warm up the runtime state
    with count_queries(app) as few:
        assert maria.get(url).status_code == 200
    with app.app_context():
        persons = db_session.scalars(select(Person).where(Person.client_id == ids.bioprom)).all()
        for day in range(40):
            contact_type = db_session.scalar(select(ContactType).where(ContactType.code == "visit"))
            db_session.add(
                Contact(
                    client_id=ids.bioprom,
                    user_id=ids.maria if day % 2 else ids.georgi,
                    contact_type=contact_type,
                    starts_at=NOW - timedelta(days=day),
                    persons=list(persons),
                )
            )
        db_session.commit()
    with count_queries(app) as many:
        assert maria.get(url).status_code == 200
    assert len(many) == len(few) and len(many) <= 12


# --- the API list ---------------------------------------------------------------------------------


def test_the_api_lists_contacts_with_filters_and_pagination(app):
    ids = app.ids
    first = _add(app, ids.bioprom, ids.maria, starts_at=datetime(2030, 5, 1, 9, 0, tzinfo=UTC))
    second = _add(app, ids.bioprom, ids.georgi, starts_at=datetime(2030, 5, 10, 9, 0, tzinfo=UTC))
    planned = _add(
        app, ids.bioprom, ids.maria, state="scheduled", starts_at=datetime(2030, 5, 20, tzinfo=UTC)
    )
    _add(app, ids.other, ids.peter, starts_at=datetime(2030, 5, 2, tzinfo=UTC))
    georgi = logged_in(app, "georgi")

    def listed(query: str) -> list[int]:
        answer = georgi.get(f"/api/v1/contacts{query}")
        assert answer.status_code == 200, answer.get_json()
        return [item["id"] for item in answer.get_json()["items"]]

    assert listed(f"?client_id={ids.bioprom}") == [planned, second, first]
    assert listed(f"?client_id={ids.bioprom}&user_id={ids.maria}") == [planned, first]
    assert listed("?state=scheduled") == [planned]
    assert listed(f"?client_id={ids.bioprom}&from=2030-05-10&to=2030-05-19") == [second]
    assert listed(f"?client_id={ids.bioprom}&from=2030-05-10T10:00:00%2B02:00") == [
        planned,
        second,
    ]
    assert listed(f"?client_id={ids.bioprom}&sort=starts_at") == [first, second, planned]
    page = georgi.get("/api/v1/contacts?per_page=2&page=2").get_json()
    assert page["meta"] == {"page": 2, "per_page": 2, "total": 4, "pages": 2}
    for query, field in (
        ("?client_id=abc", "client_id"),
        ("?state=lost", "state"),
        ("?from=yesterday", "from"),
        ("?to=2030-05-10T10:00:00", "to"),
    ):
        answer = georgi.get(f"/api/v1/contacts{query}")
        assert answer.status_code == 400 and list(answer.get_json()["errors"]) == [field], query


def test_the_api_documents_its_contact_routes(app):
    paths = logged_in(app, "maria").get("/api/v1/openapi.json").get_json()["paths"]
    assert set(paths["/api/v1/contacts"]) == {"get", "post"}
    assert set(paths["/api/v1/contacts/{contact_id}"]) == {"get", "patch", "delete"}
    assert set(paths["/api/v1/agenda"]) == {"get"}
