"""The rest of the module: demo data that adds up, reorder notifications, the CSV import,
validation named per field, the manager's pages, and a clean uninstall."""

from __future__ import annotations

from sqlalchemy import func, select, text

from core.cli import main as crm
from core.db import db_session
from core.models import Notification
from core.testing import logged_in
from crm_advertising.models import Location, Material
from crm_advertising.tests_support import fill_car, stock_of

TODAY = "2026-03-02"


def test_demo_data_adds_up_and_every_page_opens(crm_app_factory):
    app = crm_app_factory(["crm_advertising"])
    runner = app.test_cli_runner()
    assert runner.invoke(crm, ["demo"]).exit_code == 0
    result = runner.invoke(crm, ["advertising", "check"])
    assert result.exit_code == 0 and "agree" in result.output, result.output
    with app.app_context():
        assert 10 <= db_session.scalar(select(func.count()).select_from(Material)) <= 15
    for login in ("maria", "georgi", "vera", "elena"):
        client = logged_in(app, login, password="demo")
        for url in (
            "/advertising/",
            "/advertising/stock",
            "/advertising/movements",
            "/advertising/overview",
            "/advertising/settings",
            "/advertising/materials/1",
            "/advertising/movements/1",
            "/advertising/movements/new?kind=transfer",
            "/contacts/clients/1",
            "/",
        ):
            answer = client.get(url)
            assert answer.status_code in (200, 403, 404), (login, url, answer.status_code)


def test_taking_a_material_below_its_reorder_level_tells_the_managers_once(app):
    ids = app.ids  # the catalogue's reorder level is 20; the warehouse holds 200
    car = fill_car(app, "maria", {ids.catalogue: 185})
    maria = logged_in(app, "maria")
    # 30 left in all after the first (15 in the warehouse), 18 after the second: below 20, told;
    # 15 after the third: still below, not told again.
    for quantity in (170, 12, 3):
        answer = maria.post(
            "/api/v1/advertising/handouts",
            json={
                "client_id": ids.bioprom,
                "from_location_id": car,
                "day": TODAY,
                "lines": [{"material_id": ids.catalogue, "quantity": quantity}],
            },
        )
        assert answer.status_code == 201
    with app.app_context():
        told = db_session.execute(select(Notification.user_id, Notification.text)).all()
    assert told == [
        (ids.georgi, "Catalogue 2027 is below its reorder level (20 pcs): time to reorder.")
    ]
    home = logged_in(app, "georgi").get("/").text
    assert 'data-testid="low-stock"' in home and "Catalogue 2027</a>: 15 pcs left" in home


def test_the_csv_import_is_all_or_nothing_and_names_row_and_column(app):
    georgi = logged_in(app, "georgi")
    bad = (
        "code,name,kind,unit_cost,returnable,location,quantity\n"
        "MUG,Branded mug,,3.20,no,Central warehouse,100\n"
        "PEN,Branded pen,,abc,maybe,Nowhere,5\n"
    )
    answer = georgi.post(
        "/advertising/import",
        data={"file": (__import__("io").BytesIO(bad.encode()), "materials.csv")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 400
    assert "row 3, returnable: Write yes or no." in answer.text
    assert "row 3, location: Name an open warehouse." in answer.text
    assert "row 3, unit_cost: Not a valid number." in answer.text
    with app.app_context():
        assert db_session.scalar(select(Material.id).where(Material.code == "MUG")) is None
    good = bad.replace("PEN,Branded pen,,abc,maybe,Nowhere,5", "PEN,Branded pen,,0.90,no,,")
    answer = georgi.post(
        "/advertising/import",
        data={"file": (__import__("io").BytesIO(good.encode()), "materials.csv")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 302
    with app.app_context():
        mug = db_session.scalars(select(Material).where(Material.code == "MUG")).one()
    assert stock_of(app, mug.id, app.ids.warehouse) == 100


def test_invalid_input_is_refused_naming_the_field_in_forms_and_the_api(app):
    georgi = logged_in(app, "georgi")
    answer = georgi.post(
        "/api/v1/advertising/materials",
        json={"code": "", "name": "X" * 300, "unit_cost": "-1", "reorder_level": -5},
    )
    assert set(answer.get_json()["errors"]) == {"code", "name", "unit_cost", "reorder_level"}
    answer = georgi.post(
        "/api/v1/advertising/movements",
        json={
            "kind": "transfer",
            "day": "2026-02-30",
            "material_id": app.ids.catalogue,
            "quantity": 0,
        },
    )
    errors = answer.get_json()["errors"]
    assert {"day", "quantity"} <= set(errors)
    page = georgi.post(
        "/advertising/materials/new",
        data={"code": "CAT", "name": "Dup", "unit": "pcs", "unit_cost": "1"},
    )
    assert page.status_code == 400 and "Another material has this code." in page.text
    stale = georgi.patch(
        f"/api/v1/advertising/materials/{app.ids.catalogue}",
        json={"version": 99, "name": "Renamed"},
    )
    assert stale.status_code == 409


def test_uninstalling_removes_the_section_menus_and_tables_and_nothing_else(app):
    from core.modules import uninstall

    ids = app.ids
    fill_car(app, "maria", {ids.catalogue: 5})
    assert (
        "Advertising material"
        in logged_in(app, "maria").get(f"/contacts/clients/{ids.bioprom}").text
    )
    with app.app_context():
        before = db_session.execute(
            text("SELECT id, name, responsible_id FROM crm_contacts_client ORDER BY id")
        ).all()
    state = app.extensions["crm"]
    uninstall(state.engine, state.plugins, "crm_advertising")
    maria = logged_in(app, "maria")
    assert maria.get("/advertising/").status_code == 404
    page = maria.get(f"/contacts/clients/{ids.bioprom}").text
    assert "Advertising material" not in page and "/advertising/" not in page
    with app.app_context():
        after = db_session.execute(
            text("SELECT id, name, responsible_id FROM crm_contacts_client ORDER BY id")
        ).all()
        tables = set(db_session.get_bind().dialect.get_table_names(db_session.connection()))
    assert after == before
    assert not {t for t in tables if t.startswith("crm_advertising")}


def test_a_representative_gets_her_own_location_when_she_is_created(app):
    from core.testing import make_user

    with app.app_context():
        cars = dict(
            db_session.execute(
                select(Location.user_id, Location.name).where(Location.kind == "representative")
            ).all()
        )
    assert cars == {app.ids.maria: "Maria (car)", app.ids.peter: "Peter (car)"}
    new = make_user(app, "ivan", groups=("sales_rep",))
    with app.app_context():
        assert db_session.scalar(select(Location.name).where(Location.user_id == new)) == (
            "Ivan (car)"
        )
