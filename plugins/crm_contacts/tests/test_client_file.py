"""crm_contacts: the client file page, its extension point, and the small forms that edit what it
shows (addresses, phones, emails, contact persons, bank accounts)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from statistics import median
from urllib.parse import quote

import pytest
from flask import render_template_string
from markupsafe import Markup
from sqlalchemy import event, func, select

from core import hookimpl
from core.db import db_session
from core.models import Group, PermissionRecord
from core.state import current_state
from core.testing import TEST_PASSWORD, form_fields, logged_in, make_user
from crm_contacts.hookspecs import ClientFileSection
from crm_contacts.models import (
    Address,
    BankAccount,
    Client,
    Contact,
    ContactType,
    CustomerGroup,
    Email,
    Person,
    Phone,
    Tag,
)

IBAN = "BG80BNBG96611020345678"
OTHER_IBAN = "DE89370400440532013000"


@pytest.fixture
def app(crm_app_factory):
    app = crm_app_factory(["crm_contacts"])
    app.maria = make_user(app, "maria", groups=("sales_rep",))
    app.peter = make_user(app, "peter", groups=("sales_rep",))
    app.boss = make_user(app, "boss", groups=("sales_manager",))
    return app


def _type_id(code: str) -> int:
    return db_session.scalar(select(ContactType.id).where(ContactType.code == code))


def make_client(
    app, *, name: str = "Bioprom", responsible: int | None = None, persons: int = 1,
    addresses: int = 1, contacts: int = 1,
) -> int:  # fmt: skip
    """A client with ``persons`` contact persons (each with a phone and an email), ``addresses``
    addresses and ``contacts`` entries of history, each with a person."""
    with app.app_context():
        client = Client(
            name=name,
            legal_name=f"{name} Ltd",
            vat_number="BG175074752",
            country="BG",
            status="active",
            responsible_id=responsible or app.maria,
            customer_group=db_session.scalars(
                select(CustomerGroup).order_by(CustomerGroup.id)
            ).first(),
            payment_term_days=30,
            invoice_remarks="Quote order number PO-17 on every invoice",
            goods_description="Pharmaceutical raw materials",
            document_language="bg",
            notes="Gate B\nafter 9:00",
            tags=[Tag(name=f"{name}-key-account")],
        )
        for i in range(addresses):
            kind = "delivery" if i == 0 else "other"
            client.addresses.append(
                Address(kind=kind, street=f"{i + 1} Industrial Street", city="Plovdiv")
            )
        client.phones.append(Phone(kind="work", number="+35932600100"))
        client.emails.append(Email(kind="invoices", address="invoices@bioprom.example"))
        people = []
        for i in range(persons):
            person = Person(
                name=f"Ivan Petrov {i}" if i else "Ivan Petrov",
                position="Purchasing manager",
                is_primary=i == 0,
            )
            client.persons.append(person)
            client.phones.append(Phone(kind="mobile", number=f"+3598881234{i:02d}", person=person))
            client.emails.append(Email(address=f"ivan{i}@bioprom.example", person=person))
            people.append(person)
        client.bank_accounts.append(
            BankAccount(iban=IBAN, bic="BNBGBGSF", bank_name="BNB", is_default=True)
        )
        db_session.add(client)
        db_session.flush()
        visit = _type_id("visit")
        start = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
        db_session.add_all(
            Contact(
                client_id=client.id,
                user_id=app.maria,
                contact_type_id=visit,
                state="done",
                starts_at=start + timedelta(hours=i),
                duration_minutes=45,
                subject=f"Visit number {i}",
                outcome="Wants an offer for the new range",
                persons=[people[i % len(people)]] if people else [],
            )
            for i in range(contacts)
        )
        db_session.commit()
        return client.id


def page(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def no_inline_code(html: str) -> None:
    assert "style=" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert not re.search(r"\son[a-z]+=", html)


def sections_of(html: str) -> list[str]:
    return re.findall(r'data-section="([^"]+)"', html)


def search_text(app, client_id: int) -> str:
    with app.app_context():
        return db_session.get(Client, client_id).search_text


@contextmanager
def counting(app) -> Iterator[list[str]]:
    engine = app.extensions["crm"].engine
    statements: list[str] = []

    def listener(_conn, _cursor, statement, _params, _context, _executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listener)


# The page -------------------------------------------------------------------------------------


def test_the_file_shows_each_section(app):
    client_id = make_client(app, persons=2, addresses=2, contacts=7)
    with app.app_context():
        db_session.add(
            Contact(
                client_id=client_id,
                user_id=app.maria,
                contact_type_id=_type_id("meeting"),
                state="scheduled",
                starts_at=datetime(2031, 5, 4, 10, 0, tzinfo=UTC),
                subject="Present the new range",
            )
        )
        db_session.commit()
        group = db_session.get(Client, client_id).customer_group.name
    maria = logged_in(app, "maria")
    html = page(maria, f"/contacts/clients/{client_id}")
    no_inline_code(html)

    header = html.split('data-testid="client-header"', 1)[1].split("</header>", 1)[0]
    for text in ("Bioprom", "Active", group, "Maria", "BG175074752", "30 days", "Ivan Petrov"):
        assert text in header, text
    assert 'href="tel:+359888123400"' in header  # the primary person's phone, one tap away
    assert f'href="/contacts/clients/{client_id}/edit"' in header
    assert f'href="/contacts/clients/{client_id}/contacts/new"' in header
    assert f'href="/contacts/clients/{client_id}/contacts/new?state=scheduled"' in header

    assert sections_of(html) == [
        "crm_contacts.general",
        "crm_contacts.addresses",
        "crm_contacts.persons",
        "crm_contacts.preferences",
        "crm_contacts.bank_accounts",
        "crm_contacts.contacts",
    ]
    assert set(re.findall(r'data-module="([^"]+)"', html)) == {"crm_contacts"}
    for text in (
        "Bioprom Ltd",  # general data
        "Bioprom-key-account",
        "Gate B<br>after 9:00",
        "1 Industrial Street",  # addresses, phones, emails
        'href="tel:+35932600100"',
        "+359 32 600 100",
        "mailto:invoices@bioprom.example",
        "Ivan Petrov 1",  # contact persons with their phones and emails
        "mailto:ivan1@bioprom.example",
        "Quote order number PO-17 on every invoice",  # preferences
        "Pharmaceutical raw materials",
        ">BG<",
        "BG80 BNBG 9661 1020 3456 78",  # bank accounts
        "BNBGBGSF",
        "Present the new range",  # coming up, then the latest contacts
        "Wants an offer for the new range",
        f'href="/contacts/clients/{client_id}/contacts"',
        "All 8 contacts",
        'data-testid="history"',  # the history panel closes the page
    ):
        assert text in html, text
    # The primary person first; the delivery address marked.
    persons = html.split('data-testid="persons"', 1)[1]
    assert persons.index("Ivan Petrov<") < persons.index("Ivan Petrov 1")
    assert "Primary" in persons.split("Ivan Petrov 1", 1)[0]
    # The latest five, newest first.
    latest = html.split('data-testid="latest-contacts"', 1)[1].split("</ul>", 1)[0]
    assert re.findall(r"Visit number (\d+)", latest) == ["6", "5", "4", "3", "2"]


def test_the_history_panel_shows_changes_but_not_the_search_text(app):
    client_id = make_client(app)
    boss = logged_in(app, "boss")
    # Adding a phone changes the client's search text, which the history does not show.
    boss.post(f"/contacts/clients/{client_id}/phones/new", data={"number": "+359 2 987 6543"})
    with app.app_context():
        client = db_session.get(Client, client_id)
        client.payment_term_days = 45
        db_session.commit()
    html = page(boss, f"/contacts/clients/{client_id}")
    history = html.split('data-testid="history"', 1)[1]
    assert 'data-field="payment_term_days"' in history
    assert "search_text" not in history and "Search text" not in history


def test_a_client_without_children_has_empty_states(app):
    with app.app_context():
        client = Client(name="Newco", responsible_id=app.maria)
        db_session.add(client)
        db_session.commit()
        client_id = client.id
    html = page(logged_in(app, "maria"), f"/contacts/clients/{client_id}")
    for text in (
        "No address yet.",
        "No phone number of the company yet.",
        "No contact person yet.",
        "No bank account yet.",
        "No contact logged yet.",
        "None yet",
    ):
        assert text in html, text


def test_a_sales_rep_gets_404_for_another_reps_client(app):
    client_id = make_client(app, responsible=app.maria)
    peter = logged_in(app, "peter")
    page(peter, f"/contacts/clients/{client_id}", 404)
    page(peter, "/contacts/clients/999999", 404)
    with app.app_context():
        ids = {
            model: db_session.scalar(select(model.id).where(model.client_id == client_id))
            for model in (Address, Phone, Email, Person, BankAccount)
        }
    # Nor can the rep reach the client's children through the small forms.
    for url in (
        f"/contacts/addresses/{ids[Address]}/edit",
        f"/contacts/phones/{ids[Phone]}/delete",
        f"/contacts/emails/{ids[Email]}/edit",
        f"/contacts/persons/{ids[Person]}/edit",
        f"/contacts/bank-accounts/{ids[BankAccount]}/edit",
        f"/contacts/clients/{client_id}/phones/new",
    ):
        page(peter, url, 404)
    answer = peter.post(
        f"/contacts/clients/{client_id}/phones/new", data={"number": "+35921234567"}
    )
    assert answer.status_code == 404
    answer = peter.post(f"/contacts/phones/{ids[Phone]}/delete", data={"version": "1"})
    assert answer.status_code == 404
    with app.app_context():
        assert db_session.scalar(select(func.count()).select_from(Phone)) == 2
    # Her manager sees it.
    page(logged_in(app, "boss"), f"/contacts/clients/{client_id}")


def test_the_page_needs_the_read_permission(app):
    make_user(app, "guest")
    client_id = make_client(app)
    page(logged_in(app, "guest"), f"/contacts/clients/{client_id}", 403)
    anonymous = app.test_client().get(f"/contacts/clients/{client_id}")
    assert anonymous.status_code == 302


def test_the_number_of_queries_does_not_grow_with_the_client(app):
    small = make_client(app, name="Small", persons=1, addresses=1, contacts=1)
    big = make_client(app, name="Big", persons=20, addresses=10, contacts=500)
    maria = logged_in(app, "maria")
    page(maria, f"/contacts/clients/{small}")  # warm-up: runtime state, permissions, templates
    counts = {}
    for name, client_id in (("small", small), ("big", big)):
        with counting(app) as statements:
            html = page(maria, f"/contacts/clients/{client_id}")
        counts[name] = len(statements)
    assert "Ivan Petrov 19" in html and "All 500 contacts" in html
    # One more for the big client, and only one: its contacts are counted, the small client's
    # (fewer than the section lists) are the lists' own rows.
    assert counts["big"] == counts["small"] + 1, counts
    # 22 until issue 18 loaded the persons' phones and emails with the client's own (two fewer)
    # and the persons of both contact lists in one statement (one fewer).
    assert counts["big"] <= 19, counts
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        page(maria, f"/contacts/clients/{big}")
        timings.append(time.perf_counter() - started)
    print(f"client file: {counts['big']} statements, median {median(timings) * 1000:.1f} ms")


# The extension point ---------------------------------------------------------------------------


class _Sections:
    """A module contributing sections, registered straight on the request's plugin manager."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.seen: list[tuple[int, str]] = []

    @hookimpl
    def crm_client_file_sections(self, client, user):
        self.seen.append((client.id, user.login))
        if self.fail:
            raise RuntimeError("this section is broken")
        return [
            ClientFileSection(
                id="acme.turnover",
                title="Turnover",
                html=Markup(render_template_string("<p>{{ x }}</p>", x="<b>1 200 €</b>")),  # noqa: S704
                order=35,
            )
        ]


def _register(app, plugin, name: str) -> None:
    with app.test_request_context():
        current_state().pm.register(plugin, name=name)


def test_another_modules_section_takes_its_place_by_order(app):
    client_id = make_client(app)
    plugin = _Sections()
    _register(app, plugin, "acme_turnover")
    html = page(logged_in(app, "maria"), f"/contacts/clients/{client_id}")
    order = sections_of(html)
    assert order.index("acme.turnover") == order.index("crm_contacts.persons") + 1
    assert 'data-module="acme_turnover"' in html
    assert "<p>&lt;b&gt;1 200 €&lt;/b&gt;</p>" in html  # escaped by its own template
    assert plugin.seen == [(client_id, "maria")]


def test_a_failing_section_is_skipped_and_the_page_still_opens(app, monkeypatch, caplog):
    monkeypatch.delenv("CRM_STRICT_PLUGINS", raising=False)
    client_id = make_client(app)
    _register(app, _Sections(fail=True), "acme_broken")
    html = page(logged_in(app, "maria"), f"/contacts/clients/{client_id}")
    assert "crm_contacts.persons" in sections_of(html)
    assert "acme.turnover" not in sections_of(html)
    assert 'data-testid="failed-sections"' in html and "acme_broken" in html
    assert "this section is broken" in caplog.text


# The small forms -------------------------------------------------------------------------------


def _first(app, model, client_id: int) -> int:
    with app.app_context():
        return db_session.scalar(
            select(model.id).where(model.client_id == client_id).order_by(model.id)
        )


def _count(app, model) -> int:
    with app.app_context():
        return db_session.scalar(select(func.count()).select_from(model))


def _version(app, client_id: int) -> int:
    with app.app_context():
        return db_session.get(Client, client_id).version


def field_error(html: str, name: str) -> str:
    found = re.search(rf'data-error="{name}">([^<]*)<', html)
    assert found, f"no error shown for {name}"
    return found.group(1)


def test_phones_are_normalised_with_the_clients_country_and_found_by_search(app):
    client_id = make_client(app)
    maria = logged_in(app, "maria")
    url = f"/contacts/clients/{client_id}/phones/new"
    form = page(maria, url)
    no_inline_code(form)
    assert '<input type="hidden" name="csrf_token"' in form

    refused = maria.post(url, data={"number": "12", "kind": "work"})
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "Not a valid phone number for BG" in field_error(html, "number")
    assert 'value="12"' in html  # what was typed is kept
    assert _count(app, Phone) == 2

    added = maria.post(url, data={"number": "02 987 6543", "kind": "work"})
    assert added.status_code == 302
    assert added.headers["Location"].endswith(
        f"/contacts/clients/{client_id}#section-crm_contacts.addresses"
    )
    with app.app_context():
        phone = db_session.scalars(select(Phone).where(Phone.number == "+35929876543")).one()
        phone_id = phone.id
    # The client list's search column knows the number, as typed at home and abroad.
    assert "35929876543" in search_text(app, client_id)
    assert "029876543" in search_text(app, client_id)
    for typed in ("029876543", "+359 2 987 6543"):
        listing = page(maria, f"/contacts/clients?q={quote(typed)}")
        assert f'href="/contacts/clients/{client_id}"' in listing, typed
    assert 'href="tel:+35929876543"' in page(maria, f"/contacts/clients/{client_id}")

    edit_url = f"/contacts/phones/{phone_id}/edit"
    form = form_fields(page(maria, edit_url), action=edit_url)
    assert form["number"] == "+359 2 987 6543"
    refused = maria.post(edit_url, data={**form, "number": "+44 12"})
    assert refused.status_code == 400
    assert "Not a valid phone number" in field_error(refused.get_data(as_text=True), "number")
    saved = maria.post(edit_url, data={**form, "number": "+44 20 7946 0958", "kind": "mobile"})
    assert saved.status_code == 302
    assert "442079460958" in search_text(app, client_id)
    assert "35929876543" not in search_text(app, client_id)

    delete_url = f"/contacts/phones/{phone_id}/delete"
    confirm = page(maria, delete_url)
    assert 'data-testid="confirm-delete"' in confirm and "+44 20 7946 0958" in confirm
    assert _count(app, Phone) == 3  # asking deletes nothing
    deleted = maria.post(delete_url, data=form_fields(confirm, action=delete_url))
    assert deleted.status_code == 302
    assert _count(app, Phone) == 2
    assert "442079460958" not in search_text(app, client_id)


def test_a_phone_can_belong_to_a_contact_person_of_the_same_client_only(app):
    client_id = make_client(app)
    other = make_client(app, name="Other")
    maria = logged_in(app, "maria")
    person_id = _first(app, Person, client_id)
    url = f"/contacts/clients/{client_id}/phones/new"
    form = form_fields(page(maria, f"{url}?person_id={person_id}"), action=url)
    assert form["person_id"] == str(person_id)
    foreign = _first(app, Person, other)
    refused = maria.post(url, data={"number": "+35921234567", "person_id": str(foreign)})
    assert refused.status_code == 400
    assert "contact persons" in field_error(refused.get_data(as_text=True), "person_id")
    added = maria.post(url, data={"number": "+35921234567", "person_id": str(person_id)})
    assert added.headers["Location"].endswith("#section-crm_contacts.persons")
    with app.app_context():
        phone = db_session.scalars(select(Phone).where(Phone.number == "+35921234567")).one()
        assert (phone.client_id, phone.person_id) == (client_id, person_id)


def test_emails_add_edit_delete(app):
    client_id = make_client(app)
    maria = logged_in(app, "maria")
    url = f"/contacts/clients/{client_id}/emails/new"
    refused = maria.post(url, data={"address": "not-an-email"})
    assert refused.status_code == 400
    assert "Not a valid email address." in field_error(refused.get_data(as_text=True), "address")
    assert maria.post(url, data={"address": "office@bioprom.example"}).status_code == 302
    assert "office@bioprom.example" in search_text(app, client_id)
    with app.app_context():
        email_id = db_session.scalar(select(Email.id).where(Email.address.like("office@%")))
    edit_url = f"/contacts/emails/{email_id}/edit"
    form = form_fields(page(maria, edit_url), action=edit_url)
    maria.post(edit_url, data={**form, "address": "sales@bioprom.example"})
    assert "sales@bioprom.example" in page(maria, f"/contacts/clients/{client_id}")
    delete_url = f"/contacts/emails/{email_id}/delete"
    maria.post(delete_url, data=form_fields(page(maria, delete_url), action=delete_url))
    assert "sales@bioprom.example" not in search_text(app, client_id)


def test_addresses_add_edit_delete(app):
    client_id = make_client(app, addresses=0)
    maria = logged_in(app, "maria")
    url = f"/contacts/clients/{client_id}/addresses/new"
    form = form_fields(page(maria, url), action=url)
    assert (form["kind"], form["country"]) == ("head_office", "BG")
    refused = maria.post(url, data={**form, "city": "Sofia", "country": "Bulgaria"})
    assert refused.status_code == 400
    assert "two-letter country code" in field_error(refused.get_data(as_text=True), "country")
    assert _count(app, Address) == 0
    added = maria.post(url, data={**form, "street": "1 Vitosha Blvd", "city": "Sofia"})
    assert added.status_code == 302
    assert "sofia" in search_text(app, client_id)

    address_id = _first(app, Address, client_id)
    edit_url = f"/contacts/addresses/{address_id}/edit"
    form = form_fields(page(maria, edit_url), action=edit_url)
    assert form["street"] == "1 Vitosha Blvd"
    maria.post(edit_url, data={**form, "kind": "delivery", "city": "Varna"})
    with app.app_context():
        address = db_session.get(Address, address_id)
        assert (address.kind, address.city) == ("delivery", "Varna")
    assert "varna" in search_text(app, client_id) and "sofia" not in search_text(app, client_id)

    delete_url = f"/contacts/addresses/{address_id}/delete"
    assert "Varna" in page(maria, delete_url)
    maria.post(delete_url, data=form_fields(page(maria, delete_url), action=delete_url))
    assert _count(app, Address) == 0


def test_bank_accounts_refuse_a_bad_iban_or_bic_and_keep_one_default(app):
    client_id = make_client(app)
    maria = logged_in(app, "maria")
    url = f"/contacts/clients/{client_id}/bank-accounts/new"
    form = form_fields(page(maria, url), action=url)
    assert "is_default" not in form  # the client has a default account already

    refused = maria.post(url, data={"iban": "BG80BNBG96611020345679", "bic": "BNBGBGSF"})
    assert refused.status_code == 400
    assert "Not a valid IBAN" in field_error(refused.get_data(as_text=True), "iban")
    refused = maria.post(url, data={"iban": OTHER_IBAN, "bic": "B1"})
    assert refused.status_code == 400
    assert "Not a valid BIC" in field_error(refused.get_data(as_text=True), "bic")
    assert _count(app, BankAccount) == 1

    added = maria.post(
        url, data={"iban": "de89 3704 0044 0532 0130 00", "bic": "", "is_default": "y"}
    )
    assert added.status_code == 302
    assert added.headers["Location"].endswith("#section-crm_contacts.bank_accounts")
    with app.app_context():
        accounts = {b.iban: b.is_default for b in db_session.scalars(select(BankAccount))}
    assert accounts == {IBAN: False, OTHER_IBAN: True}

    first = _first(app, BankAccount, client_id)
    edit_url = f"/contacts/bank-accounts/{first}/edit"
    form = form_fields(page(maria, edit_url), action=edit_url)
    maria.post(edit_url, data={**form, "is_default": "y"})
    with app.app_context():
        accounts = {b.iban: b.is_default for b in db_session.scalars(select(BankAccount))}
    assert accounts == {IBAN: True, OTHER_IBAN: False}


def test_a_contact_person_with_a_phone_and_an_email_on_one_form(app):
    client_id = make_client(app)
    maria = logged_in(app, "maria")
    url = f"/contacts/clients/{client_id}/persons/new"
    form = form_fields(page(maria, url), action=url)
    new = {**form, "name": "Elena Ivanova", "position": "CFO", "is_primary": "y"}

    refused = maria.post(url, data={**new, "phone": "123", "email": "elena@"})
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "Not a valid phone number" in field_error(html, "phone")
    assert "Not a valid email address." in field_error(html, "email")
    refused = maria.post(url, data={**new, "name": ""})
    assert refused.status_code == 400
    assert "Required." in field_error(refused.get_data(as_text=True), "name")
    assert _count(app, Person) == 1

    added = maria.post(url, data={**new, "phone": "0888 765 432", "email": "elena@bioprom.example"})
    assert added.status_code == 302
    assert added.headers["Location"].endswith("#section-crm_contacts.persons")
    with app.app_context():
        persons = {p.name: p for p in db_session.scalars(select(Person))}
        elena = persons["Elena Ivanova"]
        assert [(p.number, p.kind, p.client_id) for p in elena.phones] == [
            ("+359888765432", "mobile", client_id)
        ]
        assert [e.address for e in elena.emails] == ["elena@bioprom.example"]
        # Making her primary took the flag from Ivan.
        assert (elena.is_primary, persons["Ivan Petrov"].is_primary) == (True, False)
        elena_id = elena.id
    assert "elena ivanova" in search_text(app, client_id)
    assert "359888765432" in search_text(app, client_id)
    header = page(maria, f"/contacts/clients/{client_id}").split("</header>", 1)[0]
    assert "Elena Ivanova" in header and 'href="tel:+359888765432"' in header

    # Emptying the phone on the person's form deletes that phone; the email stays.
    edit_url = f"/contacts/persons/{elena_id}/edit"
    form = form_fields(page(maria, edit_url), action=edit_url)
    assert (form["phone"], form["email"], form["is_primary"]) == (
        "+359 88 876 5432",
        "elena@bioprom.example",
        "y",
    )
    maria.post(edit_url, data={**form, "phone": "", "department": "Finance"})
    with app.app_context():
        elena = db_session.get(Person, elena_id)
        assert (elena.department, elena.phones, len(elena.emails)) == ("Finance", [], 1)

    # Deleting the person deletes their phones and emails, and asks first.
    delete_url = f"/contacts/persons/{elena_id}/delete"
    confirm = page(maria, delete_url)
    assert "Elena Ivanova" in confirm and "phones and emails" in confirm
    maria.post(delete_url, data=form_fields(confirm, action=delete_url))
    with app.app_context():
        assert db_session.get(Person, elena_id) is None
        assert db_session.scalar(select(func.count()).where(Email.person_id == elena_id)) == 0
    assert "elena" not in search_text(app, client_id)


def test_a_stale_form_is_a_conflict_and_changes_nothing(app):
    client_id = make_client(app)
    maria = logged_in(app, "maria")
    address_id = _first(app, Address, client_id)
    edit_url = f"/contacts/addresses/{address_id}/edit"
    stale = form_fields(page(maria, edit_url), action=edit_url)
    # Somebody else adds a phone meanwhile: the client moved on.
    boss = logged_in(app, "boss")
    boss.post(f"/contacts/clients/{client_id}/phones/new", data={"number": "+35921234567"})
    assert _version(app, client_id) == int(stale["version"]) + 1
    answer = maria.post(edit_url, data={**stale, "city": "Ruse"})
    assert answer.status_code == 409
    with app.app_context():
        assert db_session.get(Address, address_id).city == "Plovdiv"
    delete_url = f"/contacts/addresses/{address_id}/delete"
    assert maria.post(delete_url, data={"version": stale["version"]}).status_code == 409
    assert _count(app, Address) == 1


def test_the_small_forms_need_the_csrf_token(crm_app_factory):
    app = crm_app_factory(["crm_contacts"], config={"WTF_CSRF_ENABLED": True})
    app.maria = make_user(app, "maria", groups=("sales_rep",))
    client_id = make_client(app)
    maria = logged_in_with_csrf(app, "maria")
    url = f"/contacts/clients/{client_id}/phones/new"
    answer = maria.post(url, data={"number": "+35921234567"})
    assert answer.status_code == 400
    assert _count(app, Phone) == 2
    token = re.search(r'name="csrf_token" value="([^"]+)"', page(maria, url)).group(1)
    answer = maria.post(url, data={"number": "+35921234567", "csrf_token": token})
    assert answer.status_code == 302
    assert _count(app, Phone) == 3


def logged_in_with_csrf(app, login: str):
    client = app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', login_page).group(1)
    answer = client.post(
        "/login", data={"login": login, "password": TEST_PASSWORD, "csrf_token": token}
    )
    assert answer.status_code == 302
    return client


def test_a_reader_without_the_write_permission_sees_no_edit_buttons(app):
    client_id = make_client(app)
    with app.app_context():
        read = db_session.scalars(
            select(PermissionRecord).where(PermissionRecord.code == "crm_contacts.read")
        ).one()
        db_session.add(Group(code="readers", name="Readers", permissions=[read]))
        db_session.commit()
    make_user(app, "reader", groups=("readers",))
    html = page(logged_in(app, "reader"), f"/contacts/clients/{client_id}")
    assert "Ivan Petrov" in html and 'data-testid="history"' in html
    for writing in ("/edit", "/new", "Log a contact", "Schedule", "Add phone"):
        assert writing not in html, writing
    page(logged_in(app, "reader"), f"/contacts/clients/{client_id}/phones/new", 403)
