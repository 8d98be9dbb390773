"""crm_contacts: regions, a configurable list under Settings; a client's region in its form, its
file, the client list (filter and column), the CSV import and export, and the JSON API."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import select

from core.db import db_session
from core.jobs import run_queued
from core.models import AuditEntry
from core.testing import logged_in, make_user
from crm_contacts.importing import COLUMNS
from crm_contacts.models import Client, Region


@pytest.fixture
def app(crm_app_factory):
    app = crm_app_factory(["crm_contacts"])
    make_user(app, "georgi", groups=("sales_manager",))
    make_user(app, "maria", groups=("sales_rep",))
    return app


def _region_id(app, name: str) -> int:
    with app.app_context():
        return db_session.scalar(select(Region.id).where(Region.name == name))


def test_regions_are_added_renamed_and_deleted_in_settings(app):
    georgi = logged_in(app, "georgi")
    assert logged_in(app, "maria").get("/contacts/settings/regions").status_code == 403
    assert 'data-testid="empty"' in georgi.get("/contacts/settings/regions").get_data(as_text=True)
    for name, order in (("North", "10"), ("South", "20"), ("Sofia", "")):
        assert georgi.post("/contacts/settings/regions",
                           data={"name": name, "order": order}).status_code == 302  # fmt: skip
    taken = georgi.post("/contacts/settings/regions", data={"name": "north"})
    assert taken.status_code == 400 and "A region named “north” exists already." in taken.text
    empty = georgi.post("/contacts/settings/regions", data={"name": " ", "order": "x"})
    assert empty.status_code == 400
    assert "Give the region a name." in empty.text and "A whole number." in empty.text
    page = georgi.get("/contacts/settings/regions").get_data(as_text=True)
    page = page[page.index('data-testid="regions"') :]
    assert page.index("North") < page.index("South") < page.index("Sofia")  # by order

    north = _region_id(app, "North")
    renamed = georgi.post(f"/contacts/settings/regions/{north}/edit",
                          data={"name": "North-East", "order": "10"})  # fmt: skip
    assert renamed.status_code == 302
    with app.app_context():
        client = Client(name="Bioprom", region_id=north)
        db_session.add(client)
        db_session.commit()
        client_id = client.id
    confirm = georgi.get(f"/contacts/settings/regions/{north}/delete").get_data(as_text=True)
    assert 'data-testid="members"><strong>1</strong>' in confirm
    assert georgi.post(f"/contacts/settings/regions/{north}/delete").status_code == 302
    with app.app_context():
        assert db_session.get(Client, client_id).region_id is None
        entry = db_session.scalar(
            select(AuditEntry).where(AuditEntry.field == "region_id",
                                     AuditEntry.record_id == str(client_id))
        )  # fmt: skip
        assert entry.old_value == str(north) and entry.new_value is None


def test_a_clients_region_in_its_form_file_list_and_filter(app):
    georgi = logged_in(app, "georgi")
    for name in ("North", "South"):
        georgi.post("/contacts/settings/regions", data={"name": name})
    north, south = _region_id(app, "North"), _region_id(app, "South")
    form = georgi.get("/contacts/clients/new").get_data(as_text=True)
    assert 'name="region_id"' in form and "North" in form
    created = georgi.post("/contacts/clients/new",
                          data={"name": "Bioprom", "kind": "company", "country": "BG",
                                "status": "active", "region_id": str(north)})  # fmt: skip
    assert created.status_code == 302, created.text
    georgi.post("/contacts/clients/new", data={"name": "Agrotech", "kind": "company",
                                               "country": "BG", "status": "active",
                                               "region_id": str(south)})  # fmt: skip
    refused = georgi.post("/contacts/clients/new", data={"name": "Nowhere", "kind": "company",
                                                         "country": "BG", "status": "active",
                                                         "region_id": "999"})  # fmt: skip
    assert refused.status_code == 400 and "No such region." in refused.text
    file = georgi.get(created.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="region">North<' in file
    listing = georgi.get("/contacts/clients").get_data(as_text=True)
    assert 'id="f-region"' in listing and 'data-testid="region">South<' in listing
    filtered = georgi.get(f"/contacts/clients?region={north}").get_data(as_text=True)
    assert "Bioprom" in filtered and "Agrotech" not in filtered


def test_the_api_reads_writes_and_filters_the_region(app):
    georgi = logged_in(app, "georgi")
    georgi.post("/contacts/settings/regions", data={"name": "North"})
    north = _region_id(app, "North")
    created = georgi.post("/api/v1/clients", json={"name": "Bioprom", "region_id": north})
    assert created.status_code == 201 and created.get_json()["region_id"] == north
    georgi.post("/api/v1/clients", json={"name": "Agrotech"})
    listed = georgi.get(f"/api/v1/clients?region_id={north}").get_json()
    assert [c["name"] for c in listed["items"]] == ["Bioprom"]
    wrong = georgi.post("/api/v1/clients", json={"name": "X", "region_id": 999})
    assert wrong.status_code == 400 and wrong.get_json()["errors"] == {
        "region_id": ["No such region."]
    }


def test_the_csv_import_and_export_carry_the_region_by_name(app):
    assert "region" in COLUMNS
    georgi = logged_in(app, "georgi")
    make_user(app, "boss", groups=("admin",))
    boss = logged_in(app, "boss")
    georgi.post("/contacts/settings/regions", data={"name": "North"})

    def csv_of(*rows: dict) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for cells in rows:
            writer.writerow([cells.get(c, "") for c in COLUMNS])
        return out.getvalue().encode()

    def preview(data: bytes):
        """Upload → the check job (run by a worker here) → the check page."""
        sent = boss.post(
            "/contacts/import",
            data={"action": "preview", "key": "name", "file": (io.BytesIO(data), "clients.csv")},
            content_type="multipart/form-data",
        )
        run_queued(app)
        job = boss.get("/api/v1" + sent.headers["Location"]).get_json()
        return boss.get(job["link"])

    bad = preview(csv_of({"name": "Bioprom", "region": "Atlantis"}))
    assert "No region is named “Atlantis”." in bad.get_data(as_text=True)
    with app.app_context():
        assert db_session.scalar(select(Client.id)) is None
    page = preview(csv_of({"name": "Bioprom", "region": "north"}, {"name": "Agrotech"}))
    check = re.search(r'name="check" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    confirmed = boss.post("/contacts/import", data={"action": "confirm", "check": check})
    assert confirmed.status_code == 302
    run_queued(app)
    with app.app_context():
        regions = dict(db_session.execute(select(Client.name, Client.region_id)).all())
    assert regions == {"Bioprom": _region_id(app, "North"), "Agrotech": None}
    text = boss.get("/contacts/export.csv").get_data(as_text=True).removeprefix("\ufeff")
    lines = {line["name"]: line["region"] for line in csv.DictReader(io.StringIO(text))}
    assert lines == {"Bioprom": "North", "Agrotech": ""}
