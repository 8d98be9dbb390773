"""crm_contacts: My agenda, its iCalendar feed and /api/v1/agenda — and the journey of the issue:
a representative logs a call, schedules a meeting for tomorrow, sees it in her agenda and in her
phone's calendar, and opens the client file from it, in the web UI and through the API."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from sqlalchemy import select

from core.db import db_session
from core.models import User
from core.testing import form_fields, logged_in, make_user
from crm_contacts.models import CalendarFeed, Client, Contact, ContactType, Person

# A Wednesday morning: the clock the tests run at (the machine's clock is moved there).
NOW = datetime(2030, 5, 15, 8, 0, tzinfo=UTC)
TOMORROW = NOW + timedelta(days=1)


@pytest.fixture
def app(sales_app):
    app, ids = sales_app, sales_app.ids
    with app.app_context():
        bioprom = Client(
            name="Bioprom", responsible_id=ids.maria, persons=[Person(name="Ivan Petrov")]
        )
        agrola = Client(name="Agrola", responsible_id=ids.maria)
        other = Client(name="Peter's client", responsible_id=ids.peter)
        db_session.add_all([bioprom, agrola, other])
        db_session.commit()
        ids.bioprom, ids.agrola, ids.other = bioprom.id, agrola.id, other.id
        ids.ivan = bioprom.persons[0].id
    return app


def _add(app, client_id: int, user_id: int, starts_at: datetime, **values) -> int:
    with app.app_context():
        code = values.pop("type", "visit")
        contact_type = db_session.scalar(select(ContactType).where(ContactType.code == code))
        values.setdefault("state", "scheduled")
        contact = Contact(
            client_id=client_id,
            user_id=user_id,
            contact_type=contact_type,
            starts_at=starts_at,
            **values,
        )
        db_session.add(contact)
        db_session.commit()
        return contact.id


def _ids_in(html: str, testid: str) -> list[int]:
    """The contacts listed in one section of the agenda page, in page order."""
    found = re.search(rf'data-testid="{testid}".*?</section>', html, re.S)
    return [int(i) for i in re.findall(r'data-contact-id="(\d+)"', found.group(0))] if found else []


def _feed_url(html: str) -> str:
    url = re.search(r'id="calendar-url" type="text" readonly value="([^"]+)"', html).group(1)
    assert url.startswith("http://localhost/contacts/calendar/") and url.endswith(".ics")
    return url.removeprefix("http://localhost")


def _events(response) -> dict[str, icalendar.Event]:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(response.get_data())
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


# --- the journey of the issue ---------------------------------------------------------------------


def test_log_a_call_schedule_a_meeting_see_it_in_the_agenda_and_the_calendar_in_the_web_ui(app):
    ids = app.ids
    maria = logged_in(app, "maria")
    client_file = f"/contacts/clients/{ids.bioprom}"

    # A phone call of 25 minutes with Ivan Petrov, just now.
    url = f"/contacts/clients/{ids.bioprom}/contacts/new"
    form = form_fields(maria.get(f"{url}?type=phone_call").get_data(as_text=True), action=url)
    assert form["contact_type"] == "phone_call"
    logged = maria.post(
        f"/contacts/clients/{ids.bioprom}/contacts/new",
        data={**form, "duration_minutes": "25", "person_ids": str(ids.ivan), "notes": "Quote."},
    )
    assert logged.status_code == 302 and logged.headers["Location"] == client_file

    # A meeting tomorrow at 10:00.
    url = f"/contacts/clients/{ids.bioprom}/contacts/new?state=scheduled"
    form = form_fields(maria.get(url).get_data(as_text=True), action=url)
    planned = maria.post(
        url,
        data={
            **form,
            "contact_type": "meeting",
            "starts_at": "2030-05-16T10:00",
            "duration_minutes": "60",
            "subject": "Offer for the new range",
            "person_ids": str(ids.ivan),
        },
    )
    assert planned.status_code == 302 and planned.headers["Location"] == client_file
    with app.app_context():
        call, meeting = db_session.scalars(select(Contact).order_by(Contact.id)).all()
        assert (call.state, call.duration_minutes, meeting.state) == ("done", 25, "scheduled")
        call_id, meeting_id = call.id, meeting.id

    # My agenda: tomorrow's meeting, one click from the client file.
    page = maria.get("/contacts/agenda")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Nothing scheduled for today." in html
    assert _ids_in(html, "agenda-week") == [meeting_id]
    assert "Thursday 16 May" in html and "10:00" in html and "Offer for the new range" in html
    link = re.search(r'<a href="([^"]+)" data-testid="client-link">Bioprom</a>', html).group(1)
    assert link == client_file
    assert maria.get(link).status_code == 200
    assert f'href="/contacts/contacts/{meeting_id}/done"' in html

    # The phone's calendar, which cannot log in.
    events = _events(app.test_client().get(_feed_url(html)))
    meeting_event = events[f"crm-contact-{meeting_id}@localhost"]
    assert meeting_event.decoded("DTSTART") == datetime(2030, 5, 16, 10, 0, tzinfo=UTC)
    assert meeting_event.decoded("DTEND") == datetime(2030, 5, 16, 11, 0, tzinfo=UTC)
    assert str(meeting_event["SUMMARY"]) == "Meeting: Bioprom"
    assert "Offer for the new range" in str(meeting_event["DESCRIPTION"])
    assert str(meeting_event["URL"]) == f"http://localhost{client_file}"
    # The call just logged is there too (recent and done).
    assert str(events[f"crm-contact-{call_id}@localhost"]["SUMMARY"]) == "Phone call: Bioprom"


def test_log_a_call_schedule_a_meeting_see_it_in_the_agenda_through_the_api(app):
    ids = app.ids
    maria = logged_in(app, "maria")
    call = maria.post(
        "/api/v1/contacts",
        json={
            "client_id": ids.bioprom,
            "contact_type": "phone_call",
            "starts_at": "2030-05-15T10:45:00+03:00",
            "duration_minutes": 25,
            "person_ids": [ids.ivan],
        },
    )
    assert call.status_code == 201, call.get_json()
    meeting = maria.post(
        "/api/v1/contacts",
        json={
            "client_id": ids.bioprom,
            "contact_type": "meeting",
            "state": "scheduled",
            "starts_at": "2030-05-16T13:00:00+03:00",
            "duration_minutes": 60,
            "subject": "Offer",
        },
    )
    assert meeting.status_code == 201, meeting.get_json()
    meeting_id = meeting.get_json()["id"]

    week = maria.get("/api/v1/agenda")
    assert week.status_code == 200
    body = week.get_json()
    assert (body["from"], body["to"]) == ("2030-05-13", "2030-05-19")  # Monday to Sunday
    [item] = body["items"]
    assert (item["id"], item["state"], item["starts_at"]) == (
        meeting_id,
        "scheduled",
        "2030-05-16T10:00:00+00:00",
    )
    assert (item["client_id"], item["client_name"]) == (ids.bioprom, "Bioprom")
    # One request from the agenda item to the client.
    client = maria.get(f"/api/v1/clients/{item['client_id']}")
    assert client.status_code == 200 and client.get_json()["name"] == "Bioprom"

    tomorrow = maria.get("/api/v1/agenda?from=2030-05-16&to=2030-05-16").get_json()
    assert [i["id"] for i in tomorrow["items"]] == [meeting_id]
    assert maria.get("/api/v1/agenda?from=2030-05-17").get_json()["items"] == []
    for query, field in (("?from=soon", "from"), ("?from=2030-05-16&to=2030-05-01", "to")):
        refused = maria.get(f"/api/v1/agenda{query}")
        assert refused.status_code == 400 and list(refused.get_json()["errors"]) == [field]


# --- My agenda ------------------------------------------------------------------------------------


def test_the_agenda_lists_overdue_first_then_today_then_the_week_in_time_order(app):
    ids = app.ids
    late = _add(app, ids.agrola, ids.maria, NOW - timedelta(days=3))
    later_late = _add(app, ids.bioprom, ids.maria, NOW - timedelta(days=1))
    afternoon = _add(app, ids.bioprom, ids.maria, NOW + timedelta(hours=7))
    morning = _add(app, ids.agrola, ids.maria, NOW + timedelta(hours=1), type="phone_call")
    friday = _add(app, ids.bioprom, ids.maria, NOW + timedelta(days=2))
    sunday = _add(app, ids.agrola, ids.maria, datetime(2030, 5, 19, 18, 0, tzinfo=UTC))
    # Not in Maria's agenda: next week, done, cancelled, somebody else's.
    _add(app, ids.bioprom, ids.maria, datetime(2030, 5, 20, 9, 0, tzinfo=UTC))
    _add(app, ids.bioprom, ids.maria, NOW + timedelta(hours=2), state="done")
    _add(app, ids.bioprom, ids.maria, NOW + timedelta(hours=3), state="cancelled")
    _add(app, ids.other, ids.peter, NOW + timedelta(hours=2))
    _add(app, ids.bioprom, ids.georgi, NOW + timedelta(hours=2))

    html = logged_in(app, "maria").get("/contacts/agenda").get_data(as_text=True)
    assert "style=" not in html and not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert _ids_in(html, "agenda-overdue") == [late, later_late]
    assert _ids_in(html, "agenda-today") == [morning, afternoon]
    assert _ids_in(html, "agenda-week") == [friday, sunday]
    assert html.index('data-testid="agenda-overdue"') < html.index('data-testid="agenda-today"')
    assert "Overdue: still scheduled, in the past (2)" in html
    assert "Agrola" in html and "Peter&#39;s client" not in html


def test_the_agenda_of_a_new_user_is_empty_and_gives_a_calendar_address(app):
    make_user(app, "elena", groups=("back_office",))
    elena = logged_in(app, "elena")
    html = elena.get("/contacts/agenda").get_data(as_text=True)
    assert "Nothing scheduled for today." in html
    assert "Nothing else scheduled this week." in html
    assert 'data-testid="agenda-overdue"' not in html
    url = _feed_url(html)
    assert f'href="webcal://localhost{url}"' in html
    # The address is made once and stays the same.
    assert _feed_url(elena.get("/contacts/agenda").get_data(as_text=True)) == url
    assert _events(app.test_client().get(url)) == {}


def test_the_agenda_runs_a_bounded_number_of_queries(app, count_queries):
    ids = app.ids
    maria = logged_in(app, "maria")
    _add(app, ids.bioprom, ids.maria, NOW - timedelta(days=1))
    _add(app, ids.bioprom, ids.maria, NOW + timedelta(hours=1))
    maria.get("/contacts/agenda")  # the feed's secret is made at the first visit
    with count_queries(app) as few:
        assert maria.get("/contacts/agenda").status_code == 200
    for hour in range(30):
        _add(app, ids.bioprom, ids.maria, NOW - timedelta(days=2, hours=hour))
        _add(app, ids.agrola, ids.maria, NOW + timedelta(hours=hour % 12 + 1))
        _add(app, ids.bioprom, ids.maria, NOW + timedelta(days=2, hours=hour))
    with app.app_context():
        for contact in db_session.scalars(select(Contact)):
            contact.persons = db_session.scalars(select(Person)).all()
        db_session.commit()
    with count_queries(app) as many:
        assert maria.get("/contacts/agenda").status_code == 200
    assert len(many) == len(few) and len(many) <= 12


# --- the calendar feed ----------------------------------------------------------------------------


def test_a_regenerated_secret_revokes_the_old_address(app):
    ids = app.ids
    _add(app, ids.bioprom, ids.maria, TOMORROW)
    maria = logged_in(app, "maria")
    old = _feed_url(maria.get("/contacts/agenda").get_data(as_text=True))
    phone = app.test_client()
    assert len(_events(phone.get(old))) == 1

    confirm = maria.get("/contacts/agenda/calendar/regenerate")
    assert confirm.status_code == 200 and "stops working at once" in confirm.get_data(as_text=True)
    assert phone.get(old).status_code == 200  # asking is not regenerating
    done = maria.post("/contacts/agenda/calendar/regenerate")
    assert done.status_code == 302 and done.headers["Location"] == "/contacts/agenda"
    new = _feed_url(maria.get("/contacts/agenda").get_data(as_text=True))
    assert new != old
    assert phone.get(old).status_code == 404
    assert len(_events(phone.get(new))) == 1


def test_unknown_secrets_and_deactivated_users_get_404(app):
    ids = app.ids
    _add(app, ids.bioprom, ids.maria, TOMORROW)
    url = _feed_url(logged_in(app, "maria").get("/contacts/agenda").get_data(as_text=True))
    phone = app.test_client()
    assert phone.get("/contacts/calendar/" + "x" * 43 + ".ics").status_code == 404
    assert phone.get("/contacts/calendar/short.ics").status_code == 404
    assert phone.get(url).status_code == 200
    with app.app_context():
        db_session.get(User, ids.maria).active = False
        db_session.commit()
    assert phone.get(url).status_code == 404
    # A user who may no longer read contacts (taken out of every group) has no feed either.
    guest = make_user(app, "guest")
    with app.app_context():
        db_session.add(CalendarFeed(user_id=guest, secret="g" * 43))
        db_session.commit()
    assert phone.get("/contacts/calendar/" + "g" * 43 + ".ics").status_code == 404


def test_the_feed_shows_only_what_its_owner_may_see(app):
    ids = app.ids
    mine = _add(app, ids.bioprom, ids.maria, TOMORROW, type="meeting")
    moved = _add(app, ids.agrola, ids.maria, TOMORROW + timedelta(hours=2))
    recent = _add(app, ids.bioprom, ids.maria, NOW - timedelta(days=10), state="done")
    _add(app, ids.bioprom, ids.maria, NOW - timedelta(days=40), state="done")  # too old
    _add(app, ids.bioprom, ids.maria, NOW + timedelta(days=200))  # too far ahead
    _add(app, ids.bioprom, ids.maria, TOMORROW, state="cancelled")
    _add(app, ids.bioprom, ids.georgi, TOMORROW)  # somebody else's contact at her client
    _add(app, ids.other, ids.peter, TOMORROW)
    url = _feed_url(logged_in(app, "maria").get("/contacts/agenda").get_data(as_text=True))
    phone = app.test_client()

    def uids() -> set[str]:
        return set(_events(phone.get(url)))

    assert uids() == {f"crm-contact-{i}@localhost" for i in (mine, moved, recent)}
    # Agrola is given to Peter: Maria no longer sees it, in the CRM nor in her phone.
    with app.app_context():
        db_session.get(Client, ids.agrola).responsible_id = ids.peter
        db_session.commit()
    assert uids() == {f"crm-contact-{i}@localhost" for i in (mine, recent)}
    # A manager sees every client: his feed keeps his contacts wherever they are.
    georgi_url = _feed_url(logged_in(app, "georgi").get("/contacts/agenda").get_data(as_text=True))
    _add(app, ids.other, ids.georgi, TOMORROW)
    assert len(_events(phone.get(georgi_url))) == 2
    # The UID of a contact does not change when the contact does.
    with app.app_context():
        contact = db_session.get(Contact, mine)
        contact.starts_at = TOMORROW + timedelta(hours=1)
        db_session.commit()
    event = _events(phone.get(url))[f"crm-contact-{mine}@localhost"]
    assert event.decoded("DTSTART") == TOMORROW + timedelta(hours=1)
    assert event["SEQUENCE"] == 1


def test_the_feed_needs_no_login_but_the_agenda_does(app):
    anonymous = app.test_client()
    assert anonymous.get("/contacts/agenda").status_code == 302
    assert anonymous.get("/api/v1/agenda").status_code == 401
    assert anonymous.post("/contacts/agenda/calendar/regenerate").status_code == 302
    with app.app_context():
        assert db_session.scalars(select(CalendarFeed)).all() == []
