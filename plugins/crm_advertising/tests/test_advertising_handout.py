"""Maria's journey step 5: two display stands and 50 catalogues handed to Bioprom from the client
file in one form; her stock goes down, the client file shows them, the manager sees the cost."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from core.db import db_session
from core.testing import form_fields, logged_in
from crm_advertising.models import Location, Movement
from crm_advertising.tests_support import car_of, fill_car, stock_of

TODAY = "2026-03-02"


def test_maria_hands_out_from_the_client_file_in_one_form(app):
    ids = app.ids
    car = fill_car(app, "maria", {ids.catalogue: 120, ids.stand: 4})
    maria = logged_in(app, "maria")

    client_file = maria.get(f"/contacts/clients/{ids.bioprom}").text
    link = re.search(r'href="([^"]+)"[^>]*data-testid="hand-out"', client_file).group(1)
    form_page = maria.get(link)
    assert form_page.status_code == 200
    fields = form_fields(form_page.text, action=link)
    assert fields["from_location_id"] == str(car)  # her own car, prefilled
    assert fields["person_id"] == str(ids.anna)  # the client's contact person, prefilled
    posted = {
        **fields,
        "day": TODAY,
        "lines.0.material_id": str(ids.stand),
        "lines.0.quantity": "2",
        "lines.1.material_id": str(ids.catalogue),
        "lines.1.quantity": "50",
    }
    answer = maria.post(link, data=posted)
    assert answer.status_code == 302, answer.text

    assert stock_of(app, ids.catalogue, car) == 70
    assert stock_of(app, ids.stand, car) == 2
    section = maria.get(f"/contacts/clients/{ids.bioprom}").text
    assert "2 pcs Display stand to Anna Buyer" in section
    assert "50 pcs Catalogue 2027" in section
    still_there = rf'data-testid="at-client">\s*<li data-material="{ids.stand}">2 × Display stand'
    assert re.search(still_there, section)
    assert '<strong data-testid="advertising-cost">465.00</strong>' in section  # 2×120 + 50×4.5

    overview = logged_in(app, "georgi").get("/advertising/overview?from=2026-01-01&to=2026-12-31")
    assert '<span data-testid="total-cost">465.00</span>' in overview.text
    assert "Bioprom" in overview.text


def test_the_api_hands_out_several_lines_at_once(app):
    ids = app.ids
    car = fill_car(app, "maria", {ids.catalogue: 60, ids.stand: 2})
    answer = logged_in(app, "maria").post(
        "/api/v1/advertising/handouts",
        json={
            "client_id": ids.bioprom,
            "from_location_id": car,
            "day": TODAY,
            "occasion": "fair",
            "campaign": "Spring fair",
            "lines": [
                {"material_id": ids.stand, "quantity": 2},
                {"material_id": ids.catalogue, "quantity": 50},
            ],
        },
    )
    assert answer.status_code == 201, answer.get_json()
    items = answer.get_json()["items"]
    assert [(i["material"], i["quantity"], i["client_delta"]) for i in items] == [
        ("Display stand", 2, 2),
        ("Catalogue 2027", 50, 50),
    ]
    assert stock_of(app, ids.catalogue, car) == 10 and stock_of(app, ids.stand, car) == 0
    cost = logged_in(app, "georgi").get("/advertising/overview?from=2026-01-01&to=2026-12-31")
    assert '<span data-testid="total-cost">465.00</span>' in cost.text


def test_more_than_the_stock_is_refused_naming_the_material_and_what_is_left(app):
    ids = app.ids
    car = fill_car(app, "maria", {ids.catalogue: 30, ids.stand: 3})
    maria = logged_in(app, "maria")
    answer = maria.post(
        "/api/v1/advertising/handouts",
        json={
            "client_id": ids.bioprom,
            "from_location_id": car,
            "day": TODAY,
            "lines": [
                {"material_id": ids.stand, "quantity": 2},
                {"material_id": ids.catalogue, "quantity": 50},
            ],
        },
    )
    assert answer.status_code == 400
    message = answer.get_json()["errors"]["lines.1.quantity"][0]
    assert "Only 30 pcs of Catalogue 2027 left" in message and "50 asked" in message
    # All lines or none: the stands of the first line did not leave either.
    assert stock_of(app, ids.stand, car) == 3 and stock_of(app, ids.catalogue, car) == 30
    with app.app_context():
        assert (
            db_session.scalar(
                select(func.count()).select_from(Movement).where(Movement.kind == "handout")
            )
            == 0
        )

    page = maria.post(
        f"/advertising/handout/{ids.bioprom}",
        data={
            "from_location_id": car,
            "day": TODAY,
            "occasion": "visit",
            "lines.0.material_id": ids.catalogue,
            "lines.0.quantity": "31",
        },
    )
    assert page.status_code == 400
    assert 'data-error="lines.0.quantity">Only 30 pcs of Catalogue 2027 left' in page.text


def test_a_representative_moves_only_her_own_stock_and_sees_only_her_clients(app):
    ids = app.ids
    fill_car(app, "maria", {ids.catalogue: 10})
    peters_car = fill_car(app, "peter", {ids.catalogue: 10})
    maria = logged_in(app, "maria")
    answer = maria.post(
        "/api/v1/advertising/handouts",
        json={
            "client_id": ids.bioprom,
            "from_location_id": peters_car,
            "day": TODAY,
            "lines": [{"material_id": ids.catalogue, "quantity": 1}],
        },
    )
    assert answer.status_code == 400
    assert "from_location_id" in answer.get_json()["errors"]
    answer = maria.post(
        "/api/v1/advertising/handouts",
        json={
            "client_id": ids.agrotech,
            "from_location_id": car_of(app, "maria"),
            "day": TODAY,
            "lines": [{"material_id": ids.catalogue, "quantity": 1}],
        },
    )
    assert answer.get_json()["errors"] == {"client_id": ["No such client among those you may use."]}
    # Peter's hand-out to his client is not among Maria's movements, pages or API.
    peter = logged_in(app, "peter")
    assert (
        peter.post(
            "/api/v1/advertising/handouts",
            json={
                "client_id": ids.agrotech,
                "from_location_id": peters_car,
                "day": TODAY,
                "lines": [{"material_id": ids.catalogue, "quantity": 4}],
            },
        ).status_code
        == 201
    )
    listed = maria.get("/api/v1/advertising/movements?kind=handout").get_json()
    assert listed["meta"]["total"] == 0
    assert "Agrotech" not in maria.get("/advertising/movements").text
    stock = maria.get("/api/v1/advertising/stock").get_json()["items"]
    assert {s["location"] for s in stock} == {"Central warehouse", "Maria (car)"}
    with app.app_context():
        assert db_session.scalar(select(func.count()).select_from(Location)) == 3
