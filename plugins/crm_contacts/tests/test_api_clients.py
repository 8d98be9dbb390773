"""crm_contacts: the JSON API of clients (/api/v1/clients) and contact persons (/api/v1/persons)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select

from core.db import db_session
from core.locking import CHANGED
from core.testing import logged_in, make_user
from crm_contacts.models import (
    Address,
    BankAccount,
    Client,
    CustomerGroup,
    Email,
    Person,
    Phone,
    Tag,
)

CLIENTS = "/api/v1/clients"
IBAN = "BG80BNBG96611020345678"
OTHER_IBAN = "DE89370400440532013000"

BIOPROM = {
    "name": "Bioprom",
    "legal_name": "Bioprom Ltd",
    "vat_number": "BG 175 074 752",
    "status": "active",
    "tags": ["key account", "north"],
    "payment_term_days": 30,
    "invoice_remarks": "Order number on every invoice.",
    "goods_description": "Food supplements",
    "document_language": "bg",
    "addresses": [
        {"kind": "head_office", "street": "12 Tsar Boris III", "city": "Plovdiv"},
        {"kind": "delivery", "street": "3 Industrial zone", "city": "Asenovgrad"},
    ],
    "phones": [{"kind": "work", "number": "032 123 456"}],
    "emails": [{"kind": "invoices", "address": "invoices@bioprom.example"}],
    "persons": [
        {
            "name": "Ivan Petrov",
            "position": "Purchasing manager",
            "is_primary": True,
            "phones": [{"kind": "mobile", "number": "0888 123 456"}],
            "emails": [{"address": "ivan@bioprom.example"}],
        }
    ],
    "bank_accounts": [
        {"iban": "bg80 bnbg 9661 1020 3456 78", "bic": "BNBGBGSD", "is_default": True}
    ],
}


@pytest.fixture
def app(crm_app_factory):
    app = crm_app_factory(["crm_contacts"])
    app.maria = make_user(app, "maria", groups=("sales_rep",))
    app.peter = make_user(app, "peter", groups=("sales_rep",))
    app.georgi = make_user(app, "georgi", groups=("sales_manager",))
    make_user(app, "guest")
    return app


@pytest.fixture
def maria(app):
    return logged_in(app, "maria")


@pytest.fixture
def georgi(app):
    return logged_in(app, "georgi")


def _count(app, model=Client) -> int:
    with app.app_context():
        return db_session.scalar(select(func.count()).select_from(model))


@contextmanager
def _statements(app):
    engine = app.extensions["crm"].engine
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_create_a_client_with_everything_it_owns_then_read_it(app, maria):
    created = maria.post(CLIENTS, json=BIOPROM)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert created.headers["Location"].endswith(f"{CLIENTS}/{body['id']}")
    assert body["responsible_id"] == app.maria  # the caller, by default
    assert body["vat_number"] == "BG175074752" and body["version"] == 1
    assert body["tags"] == ["key account", "north"]
    assert [p["number"] for p in body["phones"]] == ["+35932123456"]  # the client's own only
    [person] = body["persons"]
    assert person["phones"][0]["number"] == "+359888123456"
    assert person["emails"][0]["address"] == "ivan@bioprom.example"
    assert body["bank_accounts"][0]["iban"] == IBAN

    read = maria.get(created.headers["Location"])
    assert read.status_code == 200 and read.get_json() == body
    with app.app_context():
        client = db_session.get(Client, body["id"])
        assert "asenovgrad" in client.search_text and "ivan petrov" in client.search_text
    assert (_count(app, Phone), _count(app, Email), _count(app, Address)) == (2, 2, 2)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"vat_number": "BG123"}, ["vat_number"]),
        ({"phones": [{"number": "12"}]}, ["phones", "0", "number"]),
        ({"bank_accounts": [{"iban": "BG80BNBG96611020345679"}]}, ["bank_accounts", "0", "iban"]),
        ({"bank_accounts": [{"iban": IBAN, "bic": "XX"}]}, ["bank_accounts", "0", "bic"]),
        ({"persons": [{"name": "Ana", "phones": [{"number": "x"}]}]}, ["persons", "0", "phones"]),
        ({"emails": [{"address": "not-an-email"}]}, ["emails", "0", "address"]),
        ({"country": "Bulgaria"}, ["country"]),
        ({"customer_group_id": 9999}, ["customer_group_id"]),
        ({"name": ""}, ["name"]),
    ],
)
def test_an_invalid_identifier_is_a_400_naming_the_field_and_nothing_is_written(
    app, maria, change, path
):
    response = maria.post(CLIENTS, json={**BIOPROM, **change})
    assert response.status_code == 400
    errors = response.get_json()["errors"]
    for key in path:
        errors = errors[key]
    assert errors
    for model in (Client, Person, Phone, Email, Address, BankAccount, Tag):
        assert _count(app, model) == 0, model


def test_list_filters_search_sorting_and_pagination(app, georgi):
    wholesale = georgi.get("/api/v1/models")  # warm up; the groups come from the migration
    assert wholesale.status_code == 200
    with app.app_context():
        group = db_session.scalar(select(CustomerGroup.id).where(CustomerGroup.name == "Retail"))
    for i in range(30):
        body = {"name": f"Client {i:02d}", "addresses": [{"city": "Varna" if i % 3 else "Ruse"}]}
        if i % 5 == 0:
            body.update(customer_group_id=group, status="active", tags=["North"])
        if i == 7:
            body.update(responsible_id=app.peter, phones=[{"number": "+359 2 987 6543"}])
        assert georgi.post(CLIENTS, json=body).status_code == 201

    page = georgi.get(CLIENTS, query_string={"per_page": 7, "page": 2, "sort": "-name"}).get_json()
    assert page["meta"] == {"page": 2, "per_page": 7, "total": 30, "pages": 5}
    assert [c["name"] for c in page["items"]][:2] == ["Client 22", "Client 21"]
    assert "persons" not in page["items"][0] and "version" in page["items"][0]

    def names(**args):
        answer = georgi.get(CLIENTS, query_string={"per_page": 100, **args})
        assert answer.status_code == 200, answer.get_json()
        return [c["name"] for c in answer.get_json()["items"]]

    assert names(q="ruse") == [f"Client {i:02d}" for i in range(0, 30, 3)]
    assert names(q="02 987 6543") == names(q="+35929876543") == ["Client 07"]
    assert names(customer_group_id=group) == [f"Client {i:02d}" for i in range(0, 30, 5)]
    assert names(status="active", tag="north") == names(customer_group_id=group)
    assert names(responsible_id=app.peter) == ["Client 07"]
    assert names(responsible_id=app.peter, status="active") == []
    assert names(sort="-created_at")[0] == "Client 29"

    for bad in ({"per_page": 1000}, {"sort": "search_text"}, {"responsible_id": "x"}):
        refused = georgi.get(CLIENTS, query_string=bad)
        assert refused.status_code == 400 and set(refused.get_json()["errors"]) == set(bad)


def test_record_rules_hide_other_representatives_clients_and_persons(app, maria, georgi):
    peters = georgi.post(CLIENTS, json={**BIOPROM, "responsible_id": app.peter}).get_json()
    mine = maria.post(CLIENTS, json={"name": "Mine"}).get_json()
    listing = maria.get(CLIENTS).get_json()
    assert [c["name"] for c in listing["items"]] == ["Mine"] and listing["meta"]["total"] == 1
    person_id = peters["persons"][0]["id"]
    for method, url in (
        ("get", f"{CLIENTS}/{peters['id']}"),
        ("patch", f"{CLIENTS}/{peters['id']}"),
        ("get", f"{CLIENTS}/{peters['id']}/persons"),
        ("post", f"{CLIENTS}/{peters['id']}/persons"),
        ("get", f"/api/v1/persons/{person_id}"),
        ("patch", f"/api/v1/persons/{person_id}"),
        ("delete", f"/api/v1/persons/{person_id}"),
    ):
        response = getattr(maria, method)(url, json={"version": 1, "name": "Taken"})
        assert response.status_code == 404, (method, url)
        assert "errors" in response.get_json()
    assert georgi.get(f"/api/v1/persons/{person_id}").get_json()["name"] == "Ivan Petrov"
    assert maria.get(f"{CLIENTS}/{mine['id']}").status_code == 200


def test_reading_a_client_is_a_bounded_number_of_queries(app, georgi):
    small = georgi.post(CLIENTS, json=BIOPROM).get_json()["id"]
    many = {
        **BIOPROM,
        "name": "Big",
        "addresses": [{"city": f"City {i}"} for i in range(10)],
        "persons": [
            {"name": f"Person {i}", "phones": [{"number": f"0888 123 4{i:02d}"}]} for i in range(20)
        ],
        "bank_accounts": [{"iban": IBAN}, {"iban": OTHER_IBAN}],
    }
    big = georgi.post(CLIENTS, json=many).get_json()["id"]
    counts = []
    for client_id in (small, big):
        with _statements(app) as statements:
            assert georgi.get(f"{CLIENTS}/{client_id}").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]
    body = georgi.get(f"{CLIENTS}/{big}").get_json()
    assert len(body["persons"]) == 20 and len(body["addresses"]) == 10


def test_patch_changes_what_it_names_with_the_version(app, maria, georgi):
    body = maria.post(CLIENTS, json=BIOPROM).get_json()
    url = f"{CLIENTS}/{body['id']}"

    changed = maria.patch(url, json={"version": 1, "name": "Bioprom AD", "tags": ["south"]})
    assert changed.status_code == 200, changed.get_json()
    after = changed.get_json()
    assert (after["name"], after["version"], after["tags"]) == ("Bioprom AD", 2, ["south"])
    # What it does not name stays, nested lists included.
    assert after["vat_number"] == "BG175074752" and after["payment_term_days"] == 30
    assert len(after["addresses"]) == 2 and len(after["persons"]) == 1
    assert maria.get(url).get_json() == after

    missing = maria.patch(url, json={"name": "No version"})
    assert missing.status_code == 400 and "version" in missing.get_json()["errors"]
    invalid = maria.patch(url, json={"version": 2, "name": "", "status": "vip"})
    assert invalid.status_code == 400 and set(invalid.get_json()["errors"]) == {"name", "status"}
    bad_vat = maria.patch(url, json={"version": 2, "vat_number": "BG123"})
    assert bad_vat.status_code == 400 and "vat_number" in bad_vat.get_json()["errors"]

    stale = georgi.patch(url, json={"version": 1, "name": "Stale"})
    assert stale.status_code == 409
    assert stale.get_json()["errors"]["version"] == [CHANGED]
    assert stale.get_json()["current"]["name"] == "Bioprom AD"
    assert maria.get(url).get_json()["version"] == 2


def test_patch_replaces_the_nested_lists_it_is_given(app, maria):
    body = maria.post(CLIENTS, json=BIOPROM).get_json()
    url = f"{CLIENTS}/{body['id']}"
    replaced = maria.patch(
        url,
        json={
            "version": 1,
            "phones": [{"number": "02 123 4567"}, {"kind": "fax", "number": "02 123 4568"}],
            "addresses": [{"city": "Sofia"}],
            "bank_accounts": [{"iban": OTHER_IBAN, "bic": "COBADEFFXXX"}],
        },
    ).get_json()
    assert [p["number"] for p in replaced["phones"]] == ["+35921234567", "+35921234568"]
    assert [a["city"] for a in replaced["addresses"]] == ["Sofia"]
    assert [b["iban"] for b in replaced["bank_accounts"]] == [OTHER_IBAN]
    # The contact person's phone was not among the client's phones to replace.
    assert replaced["persons"][0]["phones"][0]["number"] == "+359888123456"
    assert _count(app, Phone) == 3 and _count(app, Address) == 1

    persons = maria.patch(
        url,
        json={"version": 2, "persons": [{"name": "Ana", "phones": [{"number": "0878 123 456"}]}]},
    ).get_json()
    assert [p["name"] for p in persons["persons"]] == ["Ana"]
    assert persons["persons"][0]["phones"][0]["number"] == "+359878123456"
    assert _count(app, Person) == 1 and _count(app, Phone) == 3 and _count(app, Email) == 1
    assert maria.get(url).get_json() == persons
    with app.app_context():
        text = db_session.get(Client, body["id"]).search_text
    assert "ana" in text and "ivan" not in text and "sofia" in text and "plovdiv" not in text


def test_patch_validates_against_the_clients_own_country(app, maria):
    german = {"name": "Müller GmbH", "country": "DE", "vat_number": "DE136695976"}
    body = maria.post(CLIENTS, json=german).get_json()
    assert body["vat_number"] == "DE136695976"
    url = f"{CLIENTS}/{body['id']}"
    renamed = maria.patch(url, json={"version": 1, "name": "Müller AG"})
    assert renamed.status_code == 200 and renamed.get_json()["country"] == "DE"
    phone = maria.patch(url, json={"version": 2, "phones": [{"number": "030 1234567"}]})
    assert phone.status_code == 200 and phone.get_json()["phones"][0]["number"] == "+49301234567"


def test_delete_needs_the_delete_permission(app, maria, georgi):
    body = maria.post(CLIENTS, json=BIOPROM).get_json()
    url = f"{CLIENTS}/{body['id']}"
    assert maria.delete(url).status_code == 403
    deleted = georgi.delete(url)
    assert deleted.status_code == 204 and deleted.data == b""
    assert georgi.get(url).status_code == 404 and georgi.delete(url).status_code == 404
    for model in (Client, Person, Phone, Email, Address, BankAccount):
        assert _count(app, model) == 0


def test_contact_persons(app, maria):
    client = maria.post(CLIENTS, json={"name": "Nova", "country": "RO"}).get_json()
    persons_url = f"{CLIENTS}/{client['id']}/persons"
    assert maria.get(persons_url).get_json()["items"] == []

    created = maria.post(
        persons_url,
        json={
            "name": "Elena Ionescu",
            "position": "Owner",
            "phones": [{"kind": "mobile", "number": "0721 234 567"}],  # a Romanian mobile
            "emails": [{"address": "elena@nova.example"}],
        },
    )
    assert created.status_code == 201, created.get_json()
    person = created.get_json()
    assert person["phones"][0]["number"] == "+40721234567"
    assert person["client_id"] == client["id"]
    assert maria.get(created.headers["Location"]).get_json() == person
    second = maria.post(persons_url, json={"name": "Andrei", "is_primary": True}).get_json()
    listing = maria.get(persons_url).get_json()
    assert [p["name"] for p in listing["items"]] == ["Andrei", "Elena Ionescu"]
    assert listing["meta"]["total"] == 2

    bad = maria.post(persons_url, json={"name": "", "phones": [{"number": "0888 123 456"}]})
    assert bad.status_code == 400 and "name" in bad.get_json()["errors"]
    bad_phone = maria.post(persons_url, json={"name": "X", "phones": [{"number": "123"}]})
    assert bad_phone.status_code == 400
    assert bad_phone.get_json()["errors"]["phones"]["0"]["number"]
    assert _count(app, Person) == 2

    url = f"/api/v1/persons/{person['id']}"
    patched = maria.patch(url, json={"position": "General manager", "version": 1}).get_json()
    assert patched["position"] == "General manager" and patched["name"] == "Elena Ionescu"
    assert patched["phones"] == person["phones"]  # not named, kept
    phones = maria.patch(
        url, json={"phones": [{"number": "+359 888 123 456"}]}, headers={"If-Match": '"2"'}
    ).get_json()
    assert [p["number"] for p in phones["phones"]] == ["+359888123456"]
    assert _count(app, Phone) == 1
    with app.app_context():
        text = db_session.get(Client, client["id"]).search_text
    assert "elena ionescu" in text and "359888123456" in text and "40721234567" not in text

    assert maria.delete(url).status_code == 204
    assert maria.get(url).status_code == 404
    assert (_count(app, Person), _count(app, Phone), _count(app, Email)) == (1, 0, 0)
    assert maria.get(f"/api/v1/persons/{second['id']}").status_code == 200


def test_permissions(app):
    guest = logged_in(app, "guest")
    assert guest.get(CLIENTS).status_code == 403
    assert guest.post(CLIENTS, json={"name": "x"}).status_code == 403
    assert app.test_client().get(CLIENTS).status_code == 401
    assert _count(app) == 0


def test_the_api_is_documented(app, georgi):
    spec = georgi.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    assert set(paths[CLIENTS]) == {"get", "post"}
    assert set(paths[CLIENTS + "/{client_id}"]) == {"get", "patch", "delete"}
    assert "version" in paths[CLIENTS + "/{client_id}"]["patch"]["summary"]
    assert "requestBody" in paths[CLIENTS + "/{client_id}"]["patch"]
    assert set(paths[CLIENTS + "/{client_id}/persons"]) == {"get", "post"}
    assert set(paths["/api/v1/persons/{person_id}"]) == {"get", "patch", "delete"}
    query = {p["name"] for p in paths[CLIENTS]["get"]["parameters"]}
    assert {"q", "status", "customer_group_id", "responsible_id", "tag", "sort"} <= query
