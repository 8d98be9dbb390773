"""Georgi's journey, step 3: a competitor cut its prices by 10 % in North, for Beverages; one form,
and the page it leads to lists the clients concerned with their representatives, each of whom has
one notification (and nobody else has any)."""

from __future__ import annotations

from sqlalchemy import select

from core.db import db_session
from core.models import Notification
from core.testing import logged_in
from crm_competitors.models import Change


def _present(client, competitor_id, client_id, groups, **extra):
    response = client.post(
        "/api/v1/competitors/presences",
        json={"competitor_id": competitor_id, "client_id": client_id, "groups": groups, **extra},
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _presences(app):
    georgi = logged_in(app, "georgi")
    ids = app.ids
    _present(georgi, ids.acme, ids.bioprom, ["Beverages"], share_percent="40")
    _present(georgi, ids.acme, ids.agrotech, [])  # every product group
    _present(georgi, ids.acme, ids.nordmilk, ["Dairy"])  # another group: not concerned
    _present(georgi, ids.acme, ids.coastal, ["Beverages"])  # another region: not concerned
    # Ended: no longer concerned.
    _present(georgi, ids.acme, ids.nordmilk, ["Beverages"], since="2025-01-01", until="2025-06-30")
    return georgi


def _notifications(app) -> list[tuple[int, str, str]]:
    with app.app_context():
        return [
            (n.user_id, n.text, n.url)
            for n in db_session.scalars(select(Notification).order_by(Notification.user_id))
        ]


def test_recording_a_price_cut_in_the_web_ui_lists_the_clients_concerned_and_notifies_once(app):
    georgi = _presences(app)
    ids = app.ids
    form = georgi.get(f"/competitors/{ids.acme}/changes/new").get_data(as_text=True)
    assert 'name="region_ids"' in form and 'name="groups"' in form
    response = georgi.post(
        f"/competitors/{ids.acme}/changes/new",
        data={"kind": "price_change", "percent": "-10", "occurred_on": "2026-11-30",
              "region_ids": [str(ids.north)], "groups": "Beverages",
              "description": "Acme cut prices by 10 % in North", "source": "Told by the buyer"},
        follow_redirects=True,
    )  # fmt: skip
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Acme Foods: Price change −10 %" in page
    assert 'data-testid="affected-total">2<' in page
    assert f'data-client="{ids.bioprom}" data-representative="{ids.maria}"' in page
    assert f'data-client="{ids.agrotech}" data-representative="{ids.peter}"' in page
    assert f'data-client="{ids.nordmilk}"' not in page
    assert f'data-client="{ids.coastal}"' not in page
    assert "2 representatives notified" in page

    with app.app_context():
        change_id = db_session.scalar(select(Change.id))
    notes = _notifications(app)
    assert [user for user, _text, _url in notes] == [ids.maria, ids.peter]
    for _user, text, url in notes:
        assert url == f"/competitors/changes/{change_id}"
        assert "Acme Foods: Price change −10 % in North (Beverages)" in text
    assert "1 of your clients" not in notes[0][1] and "present at 1 of your client." in notes[0][1]

    # The notification leads the representative to the change, where she sees her client only.
    maria = logged_in(app, "maria")
    seen = maria.get(f"/competitors/changes/{change_id}").get_data(as_text=True)
    assert f'data-client="{ids.bioprom}"' in seen and f'data-client="{ids.agrotech}"' not in seen


def test_recording_a_price_cut_through_the_api_answers_who_is_affected(app):
    georgi = _presences(app)
    ids = app.ids
    response = georgi.post(
        f"/api/v1/competitors/{ids.acme}/changes",
        json={"kind": "price_change", "percent": "-10", "occurred_on": "2026-11-30",
              "region_ids": [ids.north], "groups": ["beverages"],
              "description": "Acme cut prices by 10 % in North"},
    )  # fmt: skip
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["headline"] == "Price change −10 %"
    assert body["regions"] == ["North"] and body["percent"] == "-10.00"
    assert body["affected_total"] == 2 and body["notified"] == 2
    assert {(a["client_name"], a["representative"]) for a in body["affected"]} == {
        ("Bioprom", "Maria"),
        ("Agrotech", "Peter"),
    }
    assert sorted(user for user, _t, _u in _notifications(app)) == [ids.maria, ids.peter]
    again = georgi.get(response.headers["Location"]).get_json()
    assert again["affected_total"] == 2


def test_a_change_naming_no_region_concerns_every_region(app):
    georgi = _presences(app)
    ids = app.ids
    body = georgi.post(
        f"/api/v1/competitors/{ids.acme}/changes",
        json={"kind": "promotion", "occurred_on": "2026-11-30", "groups": ["Beverages"],
              "description": "Buy ten, get one free"},
    ).get_json()  # fmt: skip
    assert {a["client_name"] for a in body["affected"]} == {"Bioprom", "Agrotech", "Coastal"}
    assert sorted(u for u, _t, _u in _notifications(app)) == sorted(
        [ids.ivan, ids.maria, ids.peter]
    )
