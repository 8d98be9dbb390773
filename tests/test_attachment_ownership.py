"""Attachments follow the visibility of the record they are attached to, for every model: those
without a record rule of their own but that belong to a client (contact persons, contact-history
entries, payments, task transitions...) included. Adding, reading, listing and deleting them is
refused to a representative who may not see the client, and answered as for a missing record."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.attachments import attach
from core.db import db_session
from core.models import Attachment
from core.state import current_state
from core.testing import logged_in, make_user


@pytest.fixture
def app(crm_app_factory):
    app = crm_app_factory(["crm_contacts", "crm_sales", "crm_tasks"])
    maria = make_user(app, "maria", groups=("sales_rep",))
    make_user(app, "peter", groups=("sales_rep",))
    with app.app_context():
        from crm_contacts.models import Client, Contact, ContactType, Person
        from crm_sales.models import Payment, SalesDocument
        from crm_tasks.models import Task, Transition

        client = Client(name="Maria's client", responsible_id=maria)
        person = Person(client=client, name="Anna")
        contact = Contact(
            client=client,
            user_id=maria,
            contact_type_id=db_session.scalar(select(ContactType.id)),
            starts_at=datetime(2026, 3, 2, 9, tzinfo=UTC),
            subject="Visit",
        )
        document = SalesDocument(number="INV-1", client=client, date=date(2026, 3, 1))
        payment = Payment(document=document, date=date(2026, 3, 9), amount=Decimal("10.00"))
        task = Task(title="Offer", client=client, assigned_to_id=maria, assigned_by_id=maria)
        transition = Transition(task=task, from_status="", to_status="assigned")
        db_session.add_all([client, person, contact, document, payment, task, transition])
        db_session.flush()
        app.records = {}
        for record in (person, contact, payment, transition):
            attachment = attach(db_session, record, b"minutes", name="minutes.txt")
            app.records[record.__table__.name] = (record.id, None)
            db_session.flush()
            app.records[record.__table__.name] = (record.id, attachment.id)
        db_session.commit()
    return app


MODELS = [
    "crm_contacts_person",
    "crm_contacts_contact",
    "crm_sales_payment",
    "crm_tasks_transition",
]


@pytest.mark.parametrize("model", MODELS)
def test_another_representative_cannot_add_read_or_delete_them(app, model):
    record_id, attachment_id = app.records[model]
    peter = logged_in(app, "peter")
    upload = peter.post(
        f"/attachments/{model}/{record_id}", data={"file": (io.BytesIO(b"x"), "mine.txt")}
    )
    missing = peter.post(
        f"/attachments/{model}/999999", data={"file": (io.BytesIO(b"x"), "mine.txt")}
    )
    assert upload.status_code == missing.status_code == 404
    assert peter.get(f"/attachments/{attachment_id}").status_code == 404
    assert peter.get(f"/attachments/{attachment_id}/delete").status_code == 404
    assert peter.post(f"/attachments/{attachment_id}/delete").status_code == 404
    with app.app_context():
        names = db_session.scalars(select(Attachment.name).where(Attachment.model == model))
        assert list(names) == ["minutes.txt"]
    # Maria, whose client it is, may.
    maria = logged_in(app, "maria")
    assert maria.get(f"/attachments/{attachment_id}").data == b"minutes"
    added = maria.post(
        f"/attachments/{model}/{record_id}", data={"file": (io.BytesIO(b"x"), "mine.txt")}
    )
    assert added.status_code == 302


def test_a_query_of_attachments_shows_only_those_of_visible_records(app):
    """Any query of attachments in a request (a list, a count, a search) obeys the rules of the
    records they are attached to, without the module asking."""
    from core.models import User
    from core.record_rules import RuleUser, activate

    with app.test_request_context("/"):
        for login, expected in (("peter", 0), ("maria", 4)):
            user = db_session.scalar(
                select(User).where(User.login == login).execution_options(crm_all_records=True)
            )
            activate(
                current_state().enabled_record_rules, RuleUser(user.id, frozenset({"sales_rep"}))
            )
            assert len(db_session.scalars(select(Attachment.id)).all()) == expected
