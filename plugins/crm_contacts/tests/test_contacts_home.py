"""crm_contacts' card of the home page, "My agenda today": today is the installation's today
(CRM_TIMEZONE), only the user's scheduled contacts, the overdue ones counted."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import select

from core.db import db_session
from core.testing import logged_in, make_user
from crm_contacts.models import Client, Contact, ContactType

# 00:30 on Wednesday 2 December in Sofia, still Tuesday in UTC.
NOW = datetime(2026, 12, 1, 22, 30, tzinfo=UTC)


@pytest.fixture
def app(crm_app_factory):
    with time_machine.travel(NOW, tick=False):
        app = crm_app_factory(["crm_contacts"], config={"TIMEZONE": "Europe/Sofia"})
        app.maria = make_user(app, "maria", groups=("sales_rep",))
        app.peter = make_user(app, "peter", groups=("sales_rep",))
        make_user(app, "guest")
        with app.app_context():
            bioprom = Client(name="Bioprom", responsible_id=app.maria)
            db_session.add(bioprom)
            db_session.commit()
            app.bioprom = bioprom.id
        yield app


def add(app, user_id: int, starts_at: datetime, state: str = "scheduled") -> int:
    with app.app_context():
        kind = db_session.scalar(select(ContactType).where(ContactType.code == "phone_call"))
        contact = Contact(
            client_id=app.bioprom, user_id=user_id, contact_type=kind, starts_at=starts_at,
            state=state,
        )  # fmt: skip
        db_session.add(contact)
        db_session.commit()
        return contact.id


def agenda_card(html: str) -> str:
    found = re.search(r'<section[^>]*data-widget="crm_contacts.agenda".*?</section>', html, re.S)
    return found.group(0) if found else ""


def test_today_is_the_installation_s_today(app):
    last_night = add(app, app.maria, datetime(2026, 12, 1, 21, 30, tzinfo=UTC))  # 23:30 Sofia
    morning = add(app, app.maria, datetime(2026, 12, 2, 6, 0, tzinfo=UTC))  # 08:00 Sofia
    done = add(app, app.maria, datetime(2026, 12, 1, 22, 0, tzinfo=UTC), state="done")
    tonight = add(app, app.maria, datetime(2026, 12, 2, 22, 0, tzinfo=UTC))  # tomorrow, 00:00
    peters = add(app, app.peter, datetime(2026, 12, 2, 7, 0, tzinfo=UTC))

    card = agenda_card(logged_in(app, "maria").get("/").get_data(as_text=True))
    shown = [int(i) for i in re.findall(r'data-contact-id="(\d+)"', card)]
    assert shown == [morning]
    assert last_night not in shown and done not in shown and tonight not in shown
    assert peters not in shown
    assert "Wednesday 02 December" in card and ">08:00</time>" in card
    assert 'data-testid="home-agenda-overdue">1 overdue' in card


def test_no_card_without_the_read_permission(app):
    html = logged_in(app, "guest").get("/").get_data(as_text=True)
    assert "crm_contacts.agenda" not in html
    assert 'data-widget="core.notifications"' in html
