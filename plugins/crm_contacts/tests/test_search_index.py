"""crm_contacts: the index behind the client search (issue 18) — SQLite's FTS5 trigram table, kept
in step with ``search_text`` by triggers, or PostgreSQL's pg_trgm GIN index — and the search's
answers with it: the same as without it, under the record rules, for short queries too."""

from __future__ import annotations

import re

import pytest
from alembic import command
from sqlalchemy import insert, select, text

from core.db import db_session
from core.migrate import alembic_config
from core.testing import logged_in, make_user, statements_run
from crm_contacts.importing import COLUMNS, apply_import, plan_import, run_import
from crm_contacts.models import Client

CLIENTS = "/api/v1/clients"
LIST = "/contacts/clients"


@pytest.fixture
def app(crm_app_factory):
    app = crm_app_factory(["crm_contacts"])
    app.maria = make_user(app, "maria", groups=("sales_rep",))
    app.peter = make_user(app, "peter", groups=("sales_rep",))
    make_user(app, "georgi", groups=("sales_manager",))
    return app


def _dialect(app) -> str:
    return app.extensions["crm"].engine.dialect.name


def _index_in_step(app) -> None:
    """The index holds exactly the clients' current search_text: SQLite's FTS5 checks an external
    content table against the table it indexes; PostgreSQL maintains its index itself, which
    must exist."""
    with app.extensions["crm"].engine.connect() as connection:
        if _dialect(app) == "sqlite":
            connection.exec_driver_sql(
                "INSERT INTO crm_contacts_client_fts(crm_contacts_client_fts, rank) "
                "VALUES ('integrity-check', 1)"
            )
        else:
            found = connection.scalar(
                text("SELECT indexdef FROM pg_indexes WHERE indexname = :name"),
                {"name": "ix_crm_contacts_client_search_trgm"},
            )
            assert found is not None and "gin_trgm_ops" in found


def _api_names(http, query: str) -> list[str]:
    response = http.get(CLIENTS, query_string={"q": query, "per_page": 100})
    assert response.status_code == 200, response.text
    return sorted(item["name"] for item in response.json["items"])


def _page_names(http, query: str) -> list[str]:
    response = http.get(LIST, query_string={"q": query})
    assert response.status_code == 200
    return sorted(
        name for name in ("Bioprom", "Agrotech", "Zlatna Niva", "Imported Mlechen") if name in
        response.text
    )  # fmt: skip


def _create(http, name: str, phone: str, person: str) -> int:
    response = http.post(CLIENTS, json={
        "name": name, "status": "active", "addresses": [{"kind": "head_office", "city": "Ruse"}],
        "phones": [{"kind": "work", "number": phone}], "persons": [{"name": person}],
    })  # fmt: skip
    assert response.status_code == 201, response.text
    return response.json["id"]


def test_the_index_follows_creates_updates_deletes_and_imports(app):
    maria = logged_in(app, "maria")
    bioprom = _create(maria, "Bioprom", "032 123 456", "Ivan Petrov")
    _create(maria, "Agrotech", "02 987 6543", "Elena Ivanova")
    _index_in_step(app)
    assert _api_names(maria, "biopr") == ["Bioprom"]
    assert _api_names(maria, "petrov") == ["Bioprom"]  # a contact person's name
    assert _api_names(maria, "032 123") == ["Bioprom"]  # a phone as typed at home
    assert _page_names(maria, "9876543") == ["Agrotech"]

    # An update of the client and of what it owns moves its search text, and the index with it.
    version = maria.get(f"{CLIENTS}/{bioprom}").json["version"]
    changed = maria.patch(f"{CLIENTS}/{bioprom}", json={
        "version": version, "name": "Zlatna Niva",
        "phones": [{"kind": "work", "number": "056 700 800"}],
        "persons": [{"name": "Stoyan Kolev"}],
    })  # fmt: skip
    assert changed.status_code == 200, changed.text
    _index_in_step(app)
    assert _api_names(maria, "biopr") == [] and _api_names(maria, "petrov") == []
    assert _api_names(maria, "zlatna") == ["Zlatna Niva"]
    assert _api_names(maria, "kolev") == ["Zlatna Niva"]
    assert _api_names(maria, "056700") == ["Zlatna Niva"]

    assert logged_in(app, "georgi").delete(f"{CLIENTS}/{bioprom}").status_code == 204
    _index_in_step(app)
    assert _api_names(maria, "zlatna") == []

    # The CSV import writes clients with Core INSERTs, not the ORM.
    csv = ",".join(COLUMNS) + "\n" + ",".join(
        {"name": "Imported Mlechen", "city": "Varna", "responsible": "maria",
         "person_name": "Radka Todorova"}.get(column, "") for column in COLUMNS
    )  # fmt: skip
    with app.app_context():
        plan = plan_import(db_session, csv)
        assert plan.valid, [str(e) for e in plan.errors]
        apply_import(db_session, plan)
        db_session.commit()
    _index_in_step(app)
    assert _api_names(maria, "todorova") == ["Imported Mlechen"]
    assert _page_names(maria, "mlechen") == ["Imported Mlechen"]

    # A big import fills the index once per chunk (bulk_search_index), not row by row; then
    # clients created one by one are indexed by the trigger again, on every connection.
    csv = ",".join(COLUMNS) + "\n" + "".join(
        ",".join({"name": f"Bulk Ovcharitsa {i}", "responsible": "maria"}.get(column, "")
                 for column in COLUMNS) + "\n"
        for i in range(5)
    )  # fmt: skip
    with app.app_context():
        plan = run_import(db_session, csv, write=True, chunk=2)
        assert (plan.valid, plan.created) == (True, 5)
        db_session.commit()
    _index_in_step(app)
    assert len(_api_names(maria, "ovcharits")) == 5
    _create(maria, "Ovcharitsa Later", "052 600 700", "Nikola Nikolov")
    _index_in_step(app)
    assert len(_api_names(maria, "ovcharits")) == 6


def test_short_queries_and_odd_characters_still_search(app):
    maria = logged_in(app, "maria")
    _create(maria, "Bioprom", "032 123 456", "Ivan Petrov")
    _create(maria, "Agrotech", "02 987 6543", "Elena Ivanova")
    # Fewer than three characters make no trigram: the search scans, and finds the same.
    assert _api_names(maria, "gr") == ["Agrotech"]
    assert _api_names(maria, "b") == ["Bioprom"]
    assert _page_names(maria, "io") == ["Bioprom"]
    # Characters that mean something to FTS5, LIKE or a phrase are searched for as they are.
    for query in ('"', 'pro"m', "100%", "a_b", "bio*", "NEAR(a b)", "x OR y", "-bio"):
        assert _api_names(maria, query) == [], query
        assert maria.get(LIST, query_string={"q": query}).status_code == 200


def test_a_representative_finds_only_her_clients(app):
    maria, peter = logged_in(app, "maria"), logged_in(app, "peter")
    _create(maria, "Bioprom", "032 123 456", "Ivan Petrov")
    _create(peter, "Agrotech", "02 987 6543", "Ivan Petrov")
    for query in ("ivan petrov", "iv"):
        assert _api_names(maria, query) == ["Bioprom"]
        assert _page_names(maria, query) == ["Bioprom"]
        assert _api_names(peter, query) == ["Agrotech"]
    georgi = logged_in(app, "georgi")
    assert _api_names(georgi, "ivan petrov") == ["Agrotech", "Bioprom"]
    # The global search box too.
    hits = maria.get("/search", query_string={"q": "ivan petrov"})
    assert hits.status_code == 200 and "Bioprom" in hits.text and "Agrotech" not in hits.text


def test_the_search_uses_the_index_not_a_scan(app):
    if _dialect(app) != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's; PostgreSQL's planner picks its own")
    from crm_contacts.search import search_condition

    engine = app.extensions["crm"].engine
    with app.test_request_context():
        stmt = select(Client.id).where(search_condition("bioprom")).compile(engine)
        parameters = tuple(stmt.params[name] for name in stmt.positiontup)
        connection = db_session.connection()
        plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {stmt}", parameters).all()
    details = [row[-1] for row in plan]
    assert not any(d.startswith("SCAN crm_contacts_client ") or d == "SCAN crm_contacts_client"
                   for d in details), details  # fmt: skip
    assert any("crm_contacts_client_fts VIRTUAL TABLE" in d for d in details), details


def test_the_migration_fills_the_index_for_existing_clients_and_goes_back(app, crm_plugins):
    engine = app.extensions["crm"].engine
    with engine.begin() as connection:
        command.downgrade(alembic_config(crm_plugins.values(), connection), "crm_contacts_0003")
    # Clients written while there was no index (as before the upgrade).
    with engine.begin() as connection:
        connection.execute(insert(Client), [
            {"name": "Old Bioprom", "search_text": "old bioprom ivan petrov"},
            {"name": "Old Agrotech", "search_text": "old agrotech elena ivanova"},
        ])  # fmt: skip
    with engine.begin() as connection:
        command.upgrade(alembic_config(crm_plugins.values(), connection), "crm_contacts@head")
    _index_in_step(app)
    georgi = logged_in(app, "georgi")
    assert _api_names(georgi, "petrov") == ["Old Bioprom"]
    assert _api_names(georgi, "old") == ["Old Agrotech", "Old Bioprom"]


def test_without_the_index_the_search_answers_the_same(crm_app_factory, crm_plugins):
    """The fallback: a database without the index (SQLite without FTS5's trigram tokenizer,
    PostgreSQL where pg_trgm cannot be created) searches search_text with LIKE alone."""
    app = crm_app_factory(["crm_contacts"])
    make_user(app, "georgi", groups=("sales_manager",))
    with app.extensions["crm"].engine.begin() as connection:
        command.downgrade(alembic_config(crm_plugins.values(), connection), "crm_contacts_0003")
        connection.execute(insert(Client), [
            {"name": "Bioprom", "search_text": "bioprom ivan petrov 35932123456 032123456"},
            {"name": "Agrotech", "search_text": "agrotech elena ivanova"},
        ])  # fmt: skip
    georgi = logged_in(app, "georgi")
    assert _api_names(georgi, "petrov") == ["Bioprom"]
    assert _api_names(georgi, "iv") == ["Agrotech", "Bioprom"]
    assert _page_names(georgi, "032 123 456") == ["Bioprom"]


def test_many_matches_are_counted_in_the_read_of_their_page(app):
    """A search through the index sorts its matches after reading them all, so the page and the
    API count them in that one read: the exact count, the pages in name order, and a page past
    the last (no row to carry the count) counted apart and shown as the last page."""
    rows = [{"name": f"Agro {i:03d}", "search_text": f"agro {i:03d}", "version": 1}
            for i in range(120, 0, -1)]  # fmt: skip
    rows.append({"name": "Bioprom", "search_text": "bioprom", "version": 1})
    with app.extensions["crm"].engine.begin() as connection:
        connection.execute(insert(Client), rows)
    georgi = logged_in(app, "georgi")
    georgi.get(LIST, query_string={"q": "warm"})  # asks once whether there is an index

    with statements_run(app) as statements:
        first = georgi.get(LIST, query_string={"q": "agro"}).text
    assert 'data-testid="total">120<' in first
    names = re.findall(r'<a href="/contacts/clients/\d+">([^<]+)</a>', first)
    assert names == [f"Agro {i:03d}" for i in range(1, 51)]
    reads = [s for s in statements if "FROM crm_contacts_client" in s]
    assert len(reads) == 2 and "count(*) OVER ()" in reads[0], reads
    last = georgi.get(LIST, query_string={"q": "agro", "page": 9}).text
    assert 'data-testid="total">120<' in last and ">Agro 120</a>" in last
    assert 'aria-current="page"><span class="page-link">3<' in last

    def api(**args):
        with statements_run(app) as statements:
            answer = georgi.get(CLIENTS, query_string={"q": "agro", "per_page": 50, **args})
        assert answer.status_code == 200, answer.text
        return [c["name"] for c in answer.json["items"]], answer.json["meta"], statements

    names, meta, statements = api(page=3)
    assert names == [f"Agro {i:03d}" for i in range(101, 121)]
    assert meta == {"page": 3, "per_page": 50, "total": 120, "pages": 3}
    # The keys with the count, then the page's rows by key (not searched for again).
    reads = [s for s in statements if "FROM crm_contacts_client" in s]
    assert len(reads) == 2 and "count(*) OVER ()" in reads[0], reads
    assert "LIKE" not in reads[1] and "crm_contacts_client_fts" not in reads[1], reads
    names, meta, _ = api(page=4)
    assert names == [] and meta == {"page": 4, "per_page": 50, "total": 120, "pages": 3}
    names, meta, _ = api(sort="-name", per_page=2)
    assert names == ["Agro 120", "Agro 119"] and meta["total"] == 120
    assert api(q="zzzz")[1] == {"page": 1, "per_page": 50, "total": 0, "pages": 1}
