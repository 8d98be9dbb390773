"""In-app notifications: notify(), the bell with its count (one query per page), the list,
opening one, marking all read."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Notification
from core.notifications import notify, unread_count
from core.testing import logged_in, make_user, statements_run


@pytest.fixture
def app(crm_app):
    crm_app.maria = make_user(crm_app, "maria", groups=("sales_rep",))
    crm_app.peter = make_user(crm_app, "peter", groups=("sales_rep",))
    return crm_app


def send(app, user_id: int, text: str, url: str | None = None) -> int:
    with Session(app.extensions["crm"].engine) as session:
        notification = notify(session, user_id, text, url)
        session.commit()
        return notification.id


def test_the_bell_shows_the_number_of_unread_notifications(app):
    maria = logged_in(app, "maria")
    page = maria.get("/").get_data(as_text=True)
    assert 'data-testid="notification-bell"' in page
    assert 'data-testid="notification-count"' not in page
    send(app, app.maria, "The sample for Bioprom is ready", "/tasks/1")
    send(app, app.maria, "A task was assigned to you")
    send(app, app.peter, "Not for Maria")
    page = maria.get("/").get_data(as_text=True)
    assert 'data-testid="notification-count">2</span>' in page


def test_the_bell_costs_no_query_of_its_own(app):
    for i in range(30):
        send(app, app.maria, f"Message {i}")
    maria = logged_in(app, "maria")
    # Its number is read with the user (one statement, whatever the page)...
    with statements_run(app) as statements:
        page = maria.get("/contacts/clients").get_data(as_text=True)
    asked = [s for s in statements if "core_notification" in s]
    assert len(asked) == 1 and "FROM core_user" in asked[0], asked
    assert 'data-testid="notification-count">30</span>' in page
    # ... and the home page's widget lists the newest unread besides.
    with statements_run(app) as statements:
        assert maria.get("/").status_code == 200
    assert len([s for s in statements if "core_notification" in s]) == 2


def test_the_list_shows_mine_newest_first_and_opening_one_marks_it_read(app):
    first = send(app, app.maria, "First", "/contacts/clients/7")
    send(app, app.maria, "Second")
    send(app, app.peter, "Peter's")
    maria = logged_in(app, "maria")
    page = maria.get("/notifications/").get_data(as_text=True)
    assert page.index("Second") < page.index("First")
    assert "Peter's" not in page
    opened = maria.post(f"/notifications/{first}/open")
    assert opened.status_code == 302
    assert opened.headers["Location"] == "/contacts/clients/7"
    with Session(app.extensions["crm"].engine) as session:
        assert unread_count(session, app.maria) == 1
    unread = maria.get("/notifications/?unread=1").get_data(as_text=True)
    assert "Second" in unread and "First" not in unread


def test_a_user_cannot_open_another_users_notification(app):
    theirs = send(app, app.peter, "Peter's")
    assert logged_in(app, "maria").post(f"/notifications/{theirs}/open").status_code == 404


def test_mark_all_as_read(app):
    send(app, app.maria, "One")
    send(app, app.maria, "Two")
    maria = logged_in(app, "maria")
    assert maria.post("/notifications/read-all").status_code == 302
    with Session(app.extensions["crm"].engine) as session:
        assert unread_count(session, app.maria) == 0
    assert 'data-testid="notification-count"' not in maria.get("/").get_data(as_text=True)


def test_an_empty_list_says_so(app):
    page = logged_in(app, "maria").get("/notifications/").get_data(as_text=True)
    assert "No notifications yet." in page


def test_links_to_other_sites_are_dropped_and_long_texts_cut(app):
    send(app, app.maria, "x" * 600, "https://evil.example/")
    with Session(app.extensions["crm"].engine) as session:
        (notification,) = session.scalars(select(Notification))
        assert notification.url is None
        assert len(notification.text) == 500


def test_the_list_paginates(app):
    for i in range(30):
        send(app, app.maria, f"Message {i:02}")
    maria = logged_in(app, "maria")
    first = maria.get("/notifications/").get_data(as_text=True)
    second = maria.get("/notifications/?page=2").get_data(as_text=True)
    assert "Message 29" in first and "Message 00" not in first
    assert "Message 00" in second and "Page 2 of 2" in second


def test_the_api_lists_mine_with_the_unread_count_and_marks_one_read(app):
    first = send(app, app.maria, "First", "/tasks/1")
    send(app, app.maria, "Second")
    send(app, app.peter, "Peter's")
    maria = logged_in(app, "maria")
    answer = maria.get("/api/v1/notifications").get_json()
    assert [n["text"] for n in answer["items"]] == ["Second", "First"]
    assert answer["meta"]["unread"] == 2
    assert answer["items"][1]["url"] == "/tasks/1"
    read = maria.post(f"/api/v1/notifications/{first}/read")
    assert read.status_code == 200 and read.get_json()["read_at"]
    unread = maria.get("/api/v1/notifications?unread=1").get_json()
    assert [n["text"] for n in unread["items"]] == ["Second"]
    assert unread["meta"]["unread"] == 1
    theirs = send(app, app.peter, "Not yours")
    assert maria.post(f"/api/v1/notifications/{theirs}/read").status_code == 404
