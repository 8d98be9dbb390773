"""crm_contacts: the demo data (``crm demo``) is valid, realistic and gives the demo users an
agenda."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from marshmallow import ValidationError, validate
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from core.db import db_session
from core.models import User
from crm_contacts.demo import LOCAL, crm_demo_data
from crm_contacts.models import BankAccount, Client, Contact, Email, Person, Phone
from crm_contacts.validation import normalise_bic, normalise_iban, normalise_phone, normalise_vat
from tests.helpers import run_cli


def _aware(moment: datetime) -> datetime:
    """SQLite gives stored UTC times back without their zone."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _demo(app) -> None:
    result = run_cli(app, "demo")
    assert result.exit_code == 0, result.output


def test_demo_clients_are_valid(crm_app_factory):
    app = crm_app_factory(["crm_contacts"])
    _demo(app)
    is_email = validate.Email()
    with app.app_context():
        clients = db_session.scalars(
            select(Client).options(
                selectinload(Client.persons), selectinload(Client.addresses),
                selectinload(Client.bank_accounts), selectinload(Client.tags),
            )
        ).all()  # fmt: skip
        assert 35 <= len(clients) <= 45
        assert {c.country for c in clients} >= {"BG", "DE", "RO"}
        assert {c.kind for c in clients} == {"company", "individual"}
        reps = {u.login: u.id for u in db_session.scalars(select(User))}
        assert {c.responsible_id for c in clients} == {reps["maria"], reps["peter"]}
        for client in clients:
            if client.vat_number:
                assert normalise_vat(client.vat_number, client.country) == client.vat_number
            assert 1 <= len(client.persons) <= 4
            assert any(a.kind == "head_office" and a.city for a in client.addresses)
            assert client.payment_term_days in (0, 15, 30, 45, 60)
            assert client.search_text and client.name.lower() in client.search_text
        assert sum(bool(c.vat_number) for c in clients) >= 30
        assert any(a.kind == "delivery" for c in clients for a in c.addresses)
        assert any(c.tags for c in clients) and any(c.customer_group for c in clients)
        for number, client_id in db_session.execute(select(Phone.number, Phone.client_id)):
            country = db_session.get(Client, client_id).country
            assert normalise_phone(number, country) == number
        for (address,) in db_session.execute(select(Email.address)):
            is_email(address)
        accounts = db_session.scalars(select(BankAccount)).all()
        assert len(accounts) >= 20
        for account in accounts:
            assert normalise_iban(account.iban) == account.iban
            assert normalise_bic(account.bic) == account.bic
        positions = db_session.scalars(select(Person.position).where(Person.position != ""))
        assert len(set(positions)) >= 5


def test_demo_history_and_agenda_of_the_representatives(crm_app_factory):
    app = crm_app_factory(["crm_contacts"])
    _demo(app)
    with app.app_context():
        maria = db_session.scalar(select(User.id).where(User.login == "maria"))
        peter = db_session.scalar(select(User.id).where(User.login == "peter"))
        now = datetime.now(LOCAL)
        start_of_day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        for rep in (maria, peter):
            done = db_session.scalars(
                select(Contact).where(Contact.user_id == rep, Contact.state == "done")
            ).all()
            assert len(done) >= 50
            assert all(c.client.responsible_id == rep for c in done)
            assert min(_aware(c.starts_at) for c in done) >= start_of_day - timedelta(days=366)
            assert {c.contact_type.code for c in done} >= {"visit", "phone_call"}
            assert all(c.duration_minutes > 0 and c.subject for c in done)
            assert any(c.outcome for c in done) and any(c.persons for c in done)
            today = db_session.scalars(
                select(Contact).where(
                    Contact.user_id == rep,
                    Contact.state == "scheduled",
                    Contact.starts_at >= start_of_day,
                    Contact.starts_at < start_of_day + timedelta(days=1),
                )
            ).all()
            kinds = sorted(c.contact_type.code for c in today)
            assert kinds == ["phone_call", "phone_call", "visit", "visit", "visit"]
            coming = db_session.scalar(
                select(func.count()).where(
                    Contact.user_id == rep,
                    Contact.state == "scheduled",
                    Contact.starts_at >= start_of_day + timedelta(days=1),
                )
            )
            assert coming >= 6
    # My agenda shows it.
    from core.testing import log_in

    http = app.test_client()
    log_in(http, "maria", "demo")
    page = http.get("/contacts/agenda")
    if page.status_code != 404:  # the agenda page is another part of the module
        assert page.status_code == 200


def test_demo_is_deterministic_and_not_repeated(crm_app_factory):
    names = []
    for _ in range(2):
        app = crm_app_factory(["crm_contacts"])
        _demo(app)
        with app.app_context():
            names.append(
                db_session.execute(select(Client.name, Client.vat_number).order_by(Client.id)).all()
            )
    assert names[0] == names[1]
    _demo(app)  # again on the same database: nothing is added twice
    with app.app_context():
        assert db_session.scalar(select(func.count()).select_from(Client)) == len(names[0])


def test_demo_without_the_demo_users_leaves_clients_unassigned(crm_app_factory):
    app = crm_app_factory(["crm_contacts"])
    with app.app_context():
        crm_demo_data(db_session, 2)
        db_session.commit()
        clients = db_session.scalars(select(Client)).all()
        assert 75 <= len(clients) <= 85
        assert {c.responsible_id for c in clients} == {None}
        assert db_session.scalar(select(func.count()).select_from(Contact)) == 0


def test_demo_data_pass_the_client_schema(crm_app_factory):
    """What the forms and the API accept: the demo is not built around validation."""
    from crm_contacts.schemas import ClientSchema

    app = crm_app_factory(["crm_contacts"])
    _demo(app)
    with app.app_context():
        clients = db_session.scalars(
            select(Client).options(
                selectinload(Client.persons).selectinload(Person.phones),
                selectinload(Client.persons).selectinload(Person.emails),
                selectinload(Client.addresses), selectinload(Client.bank_accounts),
                selectinload(Client.phones), selectinload(Client.emails),
            )
        ).all()  # fmt: skip
        schema = ClientSchema()
        for client in clients:
            data = {
                "name": client.name, "kind": client.kind, "vat_number": client.vat_number,
                "country": client.country, "website": client.website,
                "payment_term_days": client.payment_term_days,
                "addresses": [{"kind": a.kind, "street": a.street, "city": a.city,
                               "postal_code": a.postal_code, "country": a.country}
                              for a in client.addresses],
                "phones": [{"kind": p.kind, "number": p.number} for p in client.phones
                           if p.person_id is None],
                "emails": [{"kind": e.kind, "address": e.address} for e in client.emails
                           if e.person_id is None],
                "persons": [{"name": p.name, "position": p.position,
                             "phones": [{"kind": x.kind, "number": x.number} for x in p.phones],
                             "emails": [{"kind": x.kind, "address": x.address} for x in p.emails]}
                            for p in client.persons],
                "bank_accounts": [{"iban": b.iban, "bic": b.bic, "bank_name": b.bank_name}
                                  for b in client.bank_accounts],
            }  # fmt: skip
            try:
                schema.load(data)
            except ValidationError as exc:  # pragma: no cover - the message is the point
                raise AssertionError(f"{client.name}: {exc.messages}") from None
