"""Times are typed and shown in the installation's time zone and stored in UTC."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import select

from core.config import load_settings
from core.db import db_session
from core.testing import form_fields, logged_in, make_user
from crm_contacts.models import Client, Contact

WINTER_MORNING = datetime(2030, 1, 15, 7, 0, tzinfo=UTC)  # 09:00 in Sofia (UTC+2)


@pytest.fixture
def app(crm_app_factory):
    with time_machine.travel(WINTER_MORNING, tick=False):
        app = crm_app_factory(["crm_contacts"], config={"TIMEZONE": "Europe/Sofia"})
        maria = make_user(app, "maria", groups=("sales_rep",))
        with app.app_context():
            client = Client(name="Bioprom", responsible_id=maria)
            db_session.add(client)
            db_session.commit()
            app.client_id = client.id
        yield app


def test_a_time_typed_in_sofia_is_stored_in_utc_and_shown_back_in_sofia(app):
    maria = logged_in(app, "maria")
    url = f"/contacts/clients/{app.client_id}/contacts/new?state=scheduled"
    page = maria.get(url).get_data(as_text=True)
    assert "Europe/Sofia" in page
    form = form_fields(page, action=url)
    form.update(contact_type="meeting", starts_at="2030-01-16T10:00", subject="Offer")
    assert maria.post(url, data=form).status_code == 302
    with app.app_context():
        meeting = db_session.scalar(select(Contact))
        stored = meeting.starts_at.replace(tzinfo=meeting.starts_at.tzinfo or UTC)
        assert stored.astimezone(UTC) == datetime(2030, 1, 16, 8, 0, tzinfo=UTC)
    agenda = maria.get("/contacts/agenda").get_data(as_text=True)
    assert "10:00" in agenda and "08:00" not in agenda


def test_an_unknown_time_zone_is_refused_at_start(tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_TIMEZONE", "Europe/Atlantis")
    with pytest.raises(ValueError, match="CRM_TIMEZONE='Europe/Atlantis' is not a time zone"):
        load_settings({"INSTANCE_PATH": str(tmp_path)})
