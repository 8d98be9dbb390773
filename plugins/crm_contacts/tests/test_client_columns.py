"""crm_contacts: the client list's sortable headers and the columns each user chooses (remembered
per user, server-side), with their values read once per page and within the record rules."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select

from core.db import db_session
from core.testing import logged_in, make_user, statements_run
from crm_contacts.models import Address, Client, Contact, ContactType, Phone

LIST = "/contacts/clients"
COLUMNS = "/contacts/clients/columns"


@pytest.fixture
def app(crm_app_factory):
    app = crm_app_factory(["crm_contacts"])
    app.maria = make_user(app, "maria", groups=("sales_rep",))
    app.peter = make_user(app, "peter", groups=("sales_rep",))
    app.georgi = make_user(app, "georgi", groups=("sales_manager",))
    with app.app_context():
        kind = db_session.scalars(select(ContactType)).first()
        rows = [
            # name, city, phone, last contact (done), representative
            ("Acme", "Varna", "052 600 100", datetime(2026, 3, 2, 9, tzinfo=UTC), app.maria),
            ("Bioprom", "Plovdiv", None, datetime(2026, 5, 20, 9, tzinfo=UTC), app.maria),
            ("Cedar", "Burgas", "056 100 200", None, app.maria),
            ("Delta", "Sofia", "02 900 300", datetime(2026, 1, 5, 9, tzinfo=UTC), app.peter),
        ]
        for name, city, phone, last, rep in rows:
            client = Client(name=name, status="active", responsible_id=rep)
            client.addresses = [Address(kind="delivery", city="Elsewhere"),
                                Address(kind="head_office", city=city)]  # fmt: skip
            if phone:
                client.phones = [Phone(number=phone)]
            db_session.add(client)
            db_session.flush()
            if last:
                # An older contact, and a planned later one that is not a "last contact".
                for at, state in ((last.replace(year=2025), "done"), (last, "done"),
                                  (datetime(2026, 12, 1, tzinfo=UTC), "planned")):  # fmt: skip
                    db_session.add(Contact(client_id=client.id, contact_type_id=kind.id,
                                           state=state, starts_at=at, user_id=rep))  # fmt: skip
        db_session.commit()
    return app


def _names(page: str) -> list[str]:
    table = page[page.index('data-testid="clients"') :]
    return re.findall(r'<a href="/contacts/clients/\d+">([^<]+)</a>', table)


def _cells(page: str, key: str) -> list[str]:
    return re.findall(rf'<td data-col="{re.escape(key)}"[^>]*>([^<]*)</td>', page)


def _headers(page: str) -> list[str]:
    return re.findall(r'<th scope="col"[^>]*data-col="([^"]+)"', page)


def _choose(client, *keys: str, next_url: str = LIST, **extra):
    return client.post(COLUMNS, data={"columns": list(keys), "next": next_url, **extra})


def test_a_header_sorts_both_ways_with_an_arrow_and_keeps_the_filters(app):
    georgi = logged_in(app, "georgi")
    _choose(georgi, "city", "last_contact", "representative")
    page = georgi.get(LIST, query_string={"q": "e", "status": "active"}).text
    assert _names(page) == ["Acme", "Bioprom", "Cedar", "Delta"]
    # The name is sorted A-Z by default: its header says so and offers Z-A.
    assert 'aria-sort="ascending" data-col="name"' in page
    assert 'href="/contacts/clients?q=e&amp;status=active&amp;sort=-name"' in page
    # Another header sorts by it, A-Z first, keeping the search and the filters.
    link = re.search(r'href="([^"]+)" data-sort="city"', page).group(1).replace("&amp;", "&")
    assert link == "/contacts/clients?q=e&status=active&sort=city"
    by_city = georgi.get(link).text
    assert _names(by_city) == ["Cedar", "Bioprom", "Delta", "Acme"]  # Burgas ... Varna
    assert _cells(by_city, "city") == ["Burgas", "Plovdiv", "Sofia", "Varna"]  # the head office
    assert 'aria-sort="ascending" data-col="city"' in by_city and "▲" in by_city
    # A click on the sorted header turns it round.
    back = re.search(r'href="([^"]+)" data-sort="city"', by_city).group(1).replace("&amp;", "&")
    assert back.endswith("sort=-city")
    by_city_desc = georgi.get(back).text
    assert _names(by_city_desc) == ["Acme", "Delta", "Bioprom", "Cedar"]
    assert 'aria-sort="descending" data-col="city"' in by_city_desc and "▼" in by_city_desc
    # Never contacted comes last both ways; the planned contact is not the last contact.
    newest = georgi.get(LIST, query_string={"sort": "-last_contact"}).text
    assert _names(newest) == ["Bioprom", "Acme", "Delta", "Cedar"]
    assert _cells(newest, "last_contact") == ["2026-05-20", "2026-03-02", "2026-01-05", "—"]
    oldest = georgi.get(LIST, query_string={"sort": "last_contact"}).text
    assert _names(oldest) == ["Delta", "Acme", "Bioprom", "Cedar"]
    assert _names(georgi.get(LIST, query_string={"sort": "-representative"}).text)[0] == "Delta"
    # Only whitelisted sorts: anything else (or the phone, which is not sortable) is A-Z.
    for junk in ("phone", "search_text", "name; drop table x", "-", "--name"):
        page = georgi.get(LIST, query_string={"sort": junk})
        assert page.status_code == 200 and _names(page.text) == [
            "Acme",
            "Bioprom",
            "Cedar",
            "Delta",
        ]
    assert 'data-sort="phone"' not in georgi.get(LIST).text


def test_sort_links_and_page_links_keep_the_page_the_sort_and_the_filters(app):
    with app.extensions["crm"].engine.begin() as connection:
        connection.execute(insert(Client), [
            {"name": f"Client {i:03d}", "status": "active", "version": 1,
             "search_text": f"client {i:03d}"} for i in range(120)
        ])  # fmt: skip
    georgi = logged_in(app, "georgi")
    page = georgi.get(LIST, query_string={"page": 2, "status": "active", "sort": "-name"}).text
    assert 'aria-current="page"><span class="page-link">2<' in page
    assert 'href="/contacts/clients?status=active&amp;page=2&amp;sort=vat_number"' in page
    assert 'href="/contacts/clients?page=3&amp;sort=-name&amp;status=active"' in page
    # The filter form keeps the order chosen by a header.
    assert '<input type="hidden" name="sort" value="-name">' in page


def test_the_chosen_columns_are_remembered_per_user_across_logins(app):
    maria = logged_in(app, "maria")
    default = maria.get(LIST).text
    assert _headers(default) == ["name", "vat_number", "status", "customer_group", "region",
                                 "representative"]  # fmt: skip
    # The chooser is a plain form of checkboxes, one per offered column, the shown ones ticked.
    assert '<form method="post" action="/contacts/clients/columns"' in default
    for key in ("city", "phone", "last_contact", "region", "representative"):
        assert f'name="columns" value="{key}" id="col-{key}"' in default
    assert 'value="region" id="col-region" checked' in default
    assert 'value="city" id="col-city">' in default

    saved = _choose(maria, "city", "phone", "last_contact", "no_such_column",
                    next_url="/contacts/clients?q=e&sort=city")  # fmt: skip
    assert saved.status_code == 302 and saved.location == "/contacts/clients?q=e&sort=city"
    page = maria.get(saved.location).text
    assert _headers(page) == ["name", "city", "phone", "last_contact"]
    assert _names(page) == ["Cedar", "Bioprom", "Acme"]  # only hers, by city
    assert _cells(page, "phone") == ["056 100 200", "—", "052 600 100"]
    assert 'value="city" id="col-city" checked' in page

    # Logged in again, another day: still her columns. Somebody else keeps the usual ones.
    again = logged_in(app, "maria")
    assert _headers(again.get(LIST).text) == ["name", "city", "phone", "last_contact"]
    assert _headers(logged_in(app, "georgi").get(LIST).text)[1:3] == ["vat_number", "status"]
    # Back to the usual columns; a "next" that leaves the list is not followed.
    reset = _choose(again, "city", reset="1", next_url="https://evil.example/")
    assert reset.location == LIST
    assert _headers(again.get(LIST).text)[1] == "vat_number"
    # No column at all leaves the name.
    _choose(again)
    assert _headers(again.get(LIST).text) == ["name"]
    assert again.post(COLUMNS, data={"columns": "city"}, headers={}).status_code == 302
    anonymous = app.test_client().post(COLUMNS, data={"columns": "city"})
    assert anonymous.status_code in (302, 401, 403) and "/login" in anonymous.location


def test_each_column_is_one_query_for_the_page_and_sorting_stays_one_paged_query(app):
    georgi = logged_in(app, "georgi")
    _choose(georgi, "city", "phone", "last_contact")
    georgi.get(LIST)  # warm
    counts = []
    for extra in (0, 70):
        if extra:
            with app.extensions["crm"].engine.begin() as connection:
                connection.execute(insert(Client), [
                    {"name": f"More {i:03d}", "status": "active", "version": 1,
                     "search_text": "more"} for i in range(extra)
                ])  # fmt: skip
        with statements_run(app) as statements:
            page = georgi.get(LIST, query_string={"sort": "-last_contact", "page": 1})
        assert page.status_code == 200
        counts.append(len(statements))
        for table in ("crm_contacts_address", "crm_contacts_phone"):
            assert len([s for s in statements if f"FROM {table}" in s]) == 1, table
        # The last contacts: one query for the page's values; the sort is inside the paged query.
        paged = [s for s in statements if "LIMIT" in s and "crm_contacts_contact" in s]
        assert len(paged) == 1 and "OFFSET" in paged[0] and "max(" in paged[0].lower()
    assert counts[0] == counts[1]


def test_a_representative_sorts_and_sees_only_what_the_record_rules_allow(app):
    peter = logged_in(app, "peter")
    _choose(peter, "last_contact", "city")
    page = peter.get(LIST, query_string={"sort": "-last_contact"}).text
    assert _names(page) == ["Delta"] and 'data-testid="total">1<' in page
    assert _cells(page, "last_contact") == ["2026-01-05"]
    # Peter's sort by city does not reach Maria's clients either.
    assert _names(peter.get(LIST, query_string={"sort": "city"}).text) == ["Delta"]
