"""The competitor's page, the lists and the client file's section issue a number of statements
that does not grow with the data: the same with a handful of moves and presences as with 2,000
strategy changes and 5,000 presences."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import insert, select

from core.db import db_session
from core.testing import logged_in
from crm_competitors.models import (
    Change,
    ChangeGroup,
    Presence,
    PresenceGroup,
    change_region,
)
from crm_contacts.models import Client


def _grow(app, clients: int, presences: int, changes: int) -> None:
    """Add rows in bulk (core inserts: the ORM one by one would take minutes)."""
    ids = app.ids
    with app.app_context():
        start = db_session.scalar(select(Client.id).order_by(Client.id.desc()).limit(1))
        db_session.execute(
            insert(Client),
            [{"name": f"Client {i:05}", "responsible_id": (ids.maria, ids.peter)[i % 2],
              "region_id": (ids.north, ids.south)[i % 2]} for i in range(clients)],
        )  # fmt: skip
        client_ids = db_session.scalars(select(Client.id).where(Client.id > start)).all()
        first = (db_session.scalar(select(Presence.id).order_by(Presence.id.desc())) or 0) + 1
        db_session.execute(
            insert(Presence),
            [{"competitor_id": ids.acme, "client_id": client_ids[i % len(client_ids)],
              "share_percent": i % 100, "source": "", "notes": ""} for i in range(presences)],
        )  # fmt: skip
        db_session.execute(
            insert(PresenceGroup),
            [{"presence_id": first + i, "name": ("Beverages", "Dairy")[i % 2]}
             for i in range(presences)],
        )  # fmt: skip
        first = (db_session.scalar(select(Change.id).order_by(Change.id.desc())) or 0) + 1
        day = date(2026, 11, 30)
        db_session.execute(
            insert(Change),
            [{"competitor_id": ids.acme, "kind": "promotion", "occurred_on": day - timedelta(i),
              "quarter": "2026-Q4", "description": f"Move {i}", "source": ""}
             for i in range(changes)],
        )  # fmt: skip
        db_session.execute(
            insert(change_region),
            [{"change_id": first + i, "region_id": ids.north} for i in range(changes)],
        )
        db_session.execute(
            insert(ChangeGroup),
            [{"change_id": first + i, "name": "Beverages"} for i in range(changes)],
        )
        db_session.commit()


def _statements(app, count_queries, client, url: str) -> int:
    with count_queries(app) as statements:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(statements)


def test_pages_cost_the_same_statements_with_2000_changes_and_5000_presences(app, count_queries):
    _grow(app, clients=20, presences=20, changes=20)
    georgi = logged_in(app, "georgi")
    maria = logged_in(app, "maria")
    ids = app.ids
    with app.app_context():
        change = db_session.scalar(select(Change.id).order_by(Change.id))
    urls = [
        (georgi, f"/competitors/{ids.acme}"),
        (georgi, f"/competitors/{ids.acme}?kind=promotion&region={ids.north}&page=2"),
        (maria, f"/competitors/{ids.acme}?presences=ended"),
        (georgi, "/competitors/"),
        (georgi, "/competitors/changes"),
        (maria, "/competitors/presences"),
        (georgi, f"/competitors/changes/{change}"),
        (maria, f"/contacts/clients/{ids.bioprom}"),
        (maria, "/api/v1/competitors/presences"),
        (georgi, f"/api/v1/competitors/{ids.acme}/changes"),
    ]
    small = [_statements(app, count_queries, client, url) for client, url in urls]
    _grow(app, clients=500, presences=4980, changes=1980)
    large = [_statements(app, count_queries, client, url) for client, url in urls]
    assert large == small
    # And it still reads like a page of the data, not all of it.
    page = georgi.get(f"/competitors/{ids.acme}").get_data(as_text=True)
    assert 'data-testid="timeline-total">2000<' in page
    assert 'data-testid="presences-total">5000<' in page
    assert page.count("data-change=") == 25 and page.count("data-presence=") == 50


def test_a_manager_who_sees_every_client_pays_no_ownership_subquery(app, count_queries):
    # The manager's rule grants every client: a presence needs no "client_id IN (SELECT id FROM
    # every client)", which costs a scan of the clients at every statement.
    georgi, maria = logged_in(app, "georgi"), logged_in(app, "maria")
    with count_queries(app) as statements:
        assert georgi.get(f"/competitors/{app.ids.acme}").status_code == 200
    assert not [s for s in statements if "IN (SELECT crm_contacts_client.id" in s]
    with count_queries(app) as statements:
        assert maria.get(f"/competitors/{app.ids.acme}").status_code == 200
    assert [s for s in statements if "IN (SELECT crm_contacts_client.id" in s]
