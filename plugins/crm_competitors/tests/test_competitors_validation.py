"""Bad input is refused naming the field, in forms and the API, and nothing is half-saved: a share
over 100 %, an end before the start, an unknown region, a price change without its percent..."""

from __future__ import annotations

from sqlalchemy import func, select

from core.db import db_session
from core.models import Notification
from core.testing import logged_in
from crm_competitors.models import Change, Competitor, Presence


def _counts(app) -> tuple[int, ...]:
    with app.app_context():
        return tuple(
            db_session.scalar(select(func.count()).select_from(model))
            for model in (Competitor, Presence, Change, Notification)
        )


def test_a_presence_form_names_every_wrong_field_and_saves_nothing(app):
    ids = app.ids
    before = _counts(app)
    georgi = logged_in(app, "georgi")
    response = georgi.post(
        "/competitors/presences/new",
        data={"competitor_id": str(ids.acme), "client_id": str(ids.bioprom),
              "share_percent": "120", "since": "2026-05-01", "until": "2026-04-01"},
    )  # fmt: skip
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'data-error="share_percent">A share between 0 and 100 %.' in page
    assert 'data-error="until">Must not be before the start (since: 2026-05-01).' in page
    # The pickers keep the chosen records.
    assert f'<option value="{ids.bioprom}" selected>Bioprom</option>' in page
    assert _counts(app) == before


def test_the_api_refuses_a_presence_naming_the_field(app):
    ids = app.ids
    before = _counts(app)
    georgi = logged_in(app, "georgi")
    cases = [
        ({"share_percent": "100.5"}, "share_percent"),
        ({"since": "2026-05-01", "until": "2026-04-01"}, "until"),
        ({"share_percent": "lots"}, "share_percent"),
        ({"competitor_id": 999}, "competitor_id"),
        ({"client_id": 999}, "client_id"),
        ({"groups": ["x" * 201]}, "groups"),
    ]
    for extra, field in cases:
        body = {"competitor_id": ids.acme, "client_id": ids.bioprom, **extra}
        response = georgi.post("/api/v1/competitors/presences", json=body)
        assert response.status_code == 400, extra
        assert list(response.get_json()["errors"]) == [field], response.get_json()
    assert _counts(app) == before


def test_a_change_with_an_unknown_region_is_refused_and_nobody_is_notified(app):
    ids = app.ids
    georgi = logged_in(app, "georgi")
    georgi.post("/api/v1/competitors/presences",
                json={"competitor_id": ids.acme, "client_id": ids.bioprom})  # fmt: skip
    before = _counts(app)
    response = georgi.post(
        f"/competitors/{ids.acme}/changes/new",
        data={"kind": "price_change", "percent": "", "occurred_on": "2026-11-30",
              "region_ids": [str(ids.north), "999"], "description": ""},
    )  # fmt: skip
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'data-error="percent">Required for a price change' in page
    assert 'data-error="description">Required.' in page
    api = georgi.post(
        f"/api/v1/competitors/{ids.acme}/changes",
        json={"kind": "price_change", "percent": "-10", "occurred_on": "2026-11-30",
              "region_ids": [ids.north, 999], "description": "Cut"},
    )  # fmt: skip
    assert api.status_code == 400
    assert api.get_json()["errors"] == {"region_ids": ["No such region: 999."]}
    wrong = georgi.post(
        f"/api/v1/competitors/{ids.acme}/changes",
        json={"kind": "rumour", "occurred_on": "30.11.2026", "percent": "-200",
              "description": "?"},
    ).get_json()["errors"]  # fmt: skip
    assert set(wrong) == {"kind", "occurred_on", "percent"}
    assert _counts(app) == before


def test_a_competitor_is_refused_naming_the_field_in_form_and_api(app):
    before = _counts(app)
    georgi = logged_in(app, "georgi")
    form = georgi.post(
        "/competitors/new",
        data={"name": "acme foods", "website": "not a site", "country": "Bulgaria",
              "price_position": "free", "status": "active", "region_ids": ["999"]},
    )  # fmt: skip
    assert form.status_code == 400
    page = form.get_data(as_text=True)
    for field in ("website", "country", "price_position"):
        assert f'data-error="{field}"' in page
    api = georgi.post("/api/v1/competitors", json={"name": "ACME Foods", "region_ids": [999]})
    assert api.status_code == 400
    assert api.get_json()["errors"] == {
        "name": ["A competitor named “ACME Foods” exists already."],
        "region_ids": ["No such region: 999."],
    }
    assert _counts(app) == before


def test_product_groups_are_free_text_without_the_catalogue(app):
    georgi = logged_in(app, "georgi")
    created = georgi.post(
        "/competitors/new",
        data={"name": "Balkan Distribution", "status": "active",
              "groups": "Beverages,  snacks ,beverages", "region_ids": [str(app.ids.north)]},
    )  # fmt: skip
    assert created.status_code == 302
    body = georgi.get("/api/v1/competitors?sort=name").get_json()["items"]
    balkan = next(c for c in body if c["name"] == "Balkan Distribution")
    assert balkan["groups"] == ["Beverages", "snacks"] and balkan["regions"] == ["North"]
