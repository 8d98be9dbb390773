"""Uninstalling crm_competitors removes its section, menus, pages and tables and leaves every other
module's data as it was; installing it again works."""

from __future__ import annotations

from sqlalchemy import inspect, text

from core.testing import logged_in

MODULES = ["crm_competitors", "crm_contracts"]


def _tables(app) -> set[str]:
    return set(inspect(app.extensions["crm"].engine).get_table_names())


def _other_modules_data(app) -> dict[str, list[tuple]]:
    """Every row of every other module's table, in order."""
    with app.extensions["crm"].engine.connect() as connection:
        return {
            table: [tuple(row) for row in connection.execute(text(f"SELECT * FROM {table}"))]
            for table in sorted(_tables(app))
            if table.startswith("crm_") and not table.startswith("crm_competitors_")
        }


def test_uninstall_removes_the_module_and_keeps_everyone_elses_data(
    crm_app_factory, clock, populated
):
    app = crm_app_factory(MODULES)  # crm_contracts too: another module with data of its own
    app.ids = populated(app)
    ids = app.ids
    root = logged_in(app, "root")
    georgi = logged_in(app, "georgi")
    georgi.post("/api/v1/competitors/presences",
                json={"competitor_id": ids.acme, "client_id": ids.bioprom})  # fmt: skip
    georgi.post(
        f"/api/v1/competitors/{ids.acme}/changes",
        json={"kind": "other", "occurred_on": "2026-11-30", "description": "Moved"},
    )
    georgi.post("/api/v1/contracts", json={"client_id": ids.bioprom, "title": "Supply",
                                          "valid_from": "2026-01-01"})  # fmt: skip
    before = _other_modules_data(app)
    assert before["crm_contracts_contract"] and len(before["crm_contacts_client"]) == 4
    assert 'id="section-crm_competitors.competitors"' in georgi.get(
        f"/contacts/clients/{ids.bioprom}"
    ).get_data(as_text=True)

    preview = root.get("/apps/crm_competitors/uninstall").get_data(as_text=True)
    assert "crm_competitors_presence" in preview
    done = root.post("/apps/crm_competitors/uninstall", data={"confirm": "crm_competitors"})
    assert done.status_code == 302
    assert not {t for t in _tables(app) if t.startswith("crm_competitors_")}
    assert _other_modules_data(app) == before
    client_file = georgi.get(f"/contacts/clients/{ids.bioprom}").get_data(as_text=True)
    assert "section-crm_competitors" not in client_file
    assert "/competitors/" not in georgi.get("/").get_data(as_text=True)
    assert georgi.get("/competitors/").status_code == 404
    assert georgi.get("/api/v1/competitors").status_code == 404

    assert root.post("/apps/crm_competitors/install").status_code == 302
    assert georgi.get("/competitors/").status_code == 200
    created = georgi.post("/api/v1/competitors", json={"name": "Acme Foods"})
    assert created.status_code == 201
    with app.extensions["crm"].engine.connect() as connection:
        assert (
            connection.execute(text("SELECT count(*) FROM crm_competitors_presence")).scalar() == 0
        )
    assert _other_modules_data(app) == before
