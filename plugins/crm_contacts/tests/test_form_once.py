"""One click, one record (issue 13, point 7): a create form carries a one-time token
(core/form_once.py); posting it again — Back and Send again, a double click, two posts racing —
answers with the record the first post made, and nothing is saved twice."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.db import db_session
from core.form_once import FormSubmission, forget_old
from core.testing import form_fields, logged_in
from crm_contacts.models import Client, Contact

NOW = datetime(2030, 5, 15, 8, 0, tzinfo=UTC)


@pytest.fixture
def app(sales_app):
    with sales_app.app_context():
        client = Client(name="Bioprom", responsible_id=sales_app.ids.maria)
        db_session.add(client)
        db_session.commit()
        sales_app.ids.bioprom = client.id
    return sales_app


def contacts(app) -> int:
    with app.app_context():
        return db_session.scalar(select(func.count()).select_from(Contact))


def contact_form(app, browser):
    url = f"/contacts/clients/{app.ids.bioprom}/contacts/new"
    form = form_fields(browser.get(f"{url}?type=phone_call").text, action=url)
    assert len(form["_once"]) >= 16  # the page carries a fresh token
    return url, {**form, "duration_minutes": "25", "notes": "Asked for a quote."}


def test_posting_a_logged_contact_again_answers_with_the_contact_already_made(app):
    maria = logged_in(app, "maria")
    url, form = contact_form(app, maria)
    first = maria.post(url, data=form)
    assert first.status_code == 302
    again = maria.post(url, data=form)  # Back, then Send again
    assert again.status_code == 303
    assert again.headers["Location"] == first.headers["Location"]
    assert "This form was sent already" in maria.get(again.headers["Location"]).text
    assert contacts(app) == 1
    # A new form (a new token) logs a new contact, as the user means it to.
    url, form = contact_form(app, maria)
    assert maria.post(url, data=form).status_code == 302
    assert contacts(app) == 2


def test_a_form_with_errors_keeps_its_token_usable_and_saves_once_corrected(app):
    maria = logged_in(app, "maria")
    url, form = contact_form(app, maria)
    wrong = maria.post(url, data={**form, "duration_minutes": "-5"})
    assert wrong.status_code == 400 and contacts(app) == 0
    right = maria.post(url, data=form)  # the same token: nothing was saved with it
    assert right.status_code == 302 and contacts(app) == 1
    with app.app_context():
        saved = db_session.scalars(select(FormSubmission)).one()
        assert saved.location == right.headers["Location"]


def test_another_user_cannot_replay_a_token(app):
    maria, georgi = logged_in(app, "maria"), logged_in(app, "georgi")
    url, form = contact_form(app, maria)
    assert maria.post(url, data=form).status_code == 302
    replay = georgi.post(url, data=form)
    assert replay.status_code == 303 and contacts(app) == 1


def test_two_posts_racing_make_one_contact(app):
    url, form = contact_form(app, logged_in(app, "maria"))
    browsers = [logged_in(app, "maria") for _ in range(4)]
    answers: list[int] = []
    start = threading.Barrier(len(browsers))

    def post(browser):
        start.wait()
        answers.append(browser.post(url, data=form).status_code)

    threads = [threading.Thread(target=post, args=(b,)) for b in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [302, 303, 303, 303]
    assert contacts(app) == 1


def test_tokens_are_forgotten_after_a_day(app):
    maria = logged_in(app, "maria")
    url, form = contact_form(app, maria)
    maria.post(url, data=form)
    with app.app_context():
        assert forget_old(db_session, NOW + timedelta(hours=23)) == 0
        assert forget_old(db_session, NOW + timedelta(hours=25)) == 1
        db_session.commit()
