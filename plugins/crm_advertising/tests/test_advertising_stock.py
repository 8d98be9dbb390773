"""Stock that never lies: concurrent hand-outs of the last catalogues, the round trip of a
returnable stand, reversals, and ``crm advertising check`` against the movements."""

from __future__ import annotations

import threading

from sqlalchemy import func, select, update

from core.cli import main as crm
from core.db import db_session
from core.testing import logged_in
from crm_advertising.models import Movement, Stock
from crm_advertising.tests_support import fill_car, stock_of

TODAY = "2026-03-02"


def test_twenty_concurrent_hand_outs_of_ten_against_fifty_leave_exactly_five(app):
    ids = app.ids
    car = fill_car(app, "maria", {ids.catalogue: 50})
    clients = [logged_in(app, "maria") for _ in range(20)]
    start = threading.Barrier(len(clients))
    answers: list[tuple[int, dict]] = []

    def hand_out(client) -> None:
        start.wait()
        answer = client.post("/api/v1/advertising/handouts", json={
            "client_id": ids.bioprom, "from_location_id": car, "day": TODAY,
            "lines": [{"material_id": ids.catalogue, "quantity": 10}]})  # fmt: skip
        answers.append((answer.status_code, answer.get_json()))

    threads = [threading.Thread(target=hand_out, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] * 5 + [400] * 15, answers
    refusals = [body["errors"]["lines.0.quantity"][0] for status, body in answers if status == 400]
    assert all(r.startswith("Only 0 pcs of Catalogue 2027 left") for r in refusals), refusals
    assert stock_of(app, ids.catalogue, car) == 0
    with app.app_context():
        handed = db_session.scalar(select(func.sum(Movement.quantity)).where(
            Movement.kind == "handout"))  # fmt: skip
    assert handed == 50


def test_a_returnable_stand_goes_out_and_comes_back_with_its_whole_history(app):
    ids = app.ids
    car = fill_car(app, "maria", {ids.stand: 1})
    maria = logged_in(app, "maria")
    out = maria.post("/api/v1/advertising/movements", json={
        "kind": "handout", "day": "2026-03-02", "material_id": ids.stand, "quantity": 1,
        "from_location_id": car, "client_id": ids.bioprom})  # fmt: skip
    assert out.status_code == 201, out.get_json()
    file = maria.get(f"/contacts/clients/{ids.bioprom}").text
    assert 'data-testid="at-client"' in file and "1 × Display stand (since 2026-03-02)" in file

    back = maria.post("/api/v1/advertising/movements", json={
        "kind": "return", "day": "2026-06-30", "material_id": ids.stand, "quantity": 1,
        "to_location_id": car, "client_id": ids.bioprom})  # fmt: skip
    assert back.status_code == 201, back.get_json()
    file = maria.get(f"/contacts/clients/{ids.bioprom}").text
    assert 'data-testid="at-client"' not in file
    page = maria.get(f"/advertising/movements?client={ids.bioprom}").text
    history = page[page.index('data-testid="movements"') :]
    assert history.index("Return from client") < history.index("Hand-out")  # newest first
    assert stock_of(app, ids.stand, car) == 1
    # A second return of the same stand is refused: the client holds none.
    again = maria.post("/api/v1/advertising/movements", json={
        "kind": "return", "day": "2026-07-01", "material_id": ids.stand, "quantity": 1,
        "to_location_id": car, "client_id": ids.bioprom})  # fmt: skip
    assert again.get_json()["errors"] == {"quantity": ["Bioprom holds 0 pcs of Display stand."]}
    # A catalogue is not returnable.
    brochure = maria.post("/api/v1/advertising/movements", json={
        "kind": "return", "day": "2026-07-01", "material_id": ids.catalogue, "quantity": 1,
        "to_location_id": car, "client_id": ids.bioprom})  # fmt: skip
    assert brochure.get_json()["errors"] == {"material_id": ["Catalogue 2027 is not returnable."]}


def test_a_mistake_is_reversed_never_edited(app):
    ids = app.ids
    car = fill_car(app, "maria", {ids.catalogue: 20})
    maria = logged_in(app, "maria")
    made = maria.post("/api/v1/advertising/movements", json={
        "kind": "handout", "day": TODAY, "material_id": ids.catalogue, "quantity": 15,
        "from_location_id": car, "client_id": ids.bioprom}).get_json()  # fmt: skip
    assert stock_of(app, ids.catalogue, car) == 5
    page = maria.get(f"/advertising/movements/{made['id']}/reverse")
    assert "Reverse movement" in page.text
    answer = maria.post(f"/advertising/movements/{made['id']}/reverse")
    assert answer.status_code == 302
    assert stock_of(app, ids.catalogue, car) == 20
    again = maria.post(f"/api/v1/advertising/movements/{made['id']}/reverse")
    assert again.get_json()["errors"] == {"movement": ["This movement was reversed already."]}
    # Peter may not reverse Maria's hand-out (he does not even see it).
    assert logged_in(app, "peter").post(
        f"/api/v1/advertising/movements/{made['id']}/reverse").status_code == 404  # fmt: skip


def test_the_check_finds_no_difference_until_a_row_is_altered_behind_its_back(app):
    ids = app.ids
    fill_car(app, "maria", {ids.catalogue: 20, ids.stand: 2})
    runner = app.test_cli_runner()
    result = runner.invoke(crm, ["advertising", "check"])
    assert result.exit_code == 0, result.output
    assert "Stock and movements agree." in result.output
    with app.app_context():
        db_session.execute(update(Stock).where(Stock.material_id == ids.catalogue,
                                               Stock.location_id == ids.warehouse)
                           .values(quantity=Stock.quantity + 7))  # fmt: skip
        db_session.commit()
    result = runner.invoke(crm, ["advertising", "check"])
    assert result.exit_code == 1
    assert "Catalogue 2027 at Central warehouse: stock 187, movements add up to 180." in (
        result.output
    )
