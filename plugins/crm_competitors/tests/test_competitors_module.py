"""What the module declares to the core: attachments on competitors and moves, the audit trail of
presences, the report definitions over registered fields, the JSON API in the OpenAPI document."""

from __future__ import annotations

import io

from sqlalchemy import select

from core.db import db_session
from core.models import AuditEntry
from core.state import current_state
from core.testing import logged_in
from crm_competitors.models import Presence
from crm_competitors.plugin import crm_reports


def test_a_price_list_is_attached_to_a_competitor(app):
    georgi = logged_in(app, "georgi")
    url = f"/competitors/{app.ids.acme}"
    sent = georgi.post(
        f"/attachments/crm_competitors_competitor/{app.ids.acme}",
        data={"file": (io.BytesIO(b"PRICE LIST 2027"), "acme-prices.pdf"), "next": url},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 302
    page = georgi.get(url).get_data(as_text=True)
    assert "acme-prices.pdf" in page
    # A representative reads it, and may attach too (write); the back office only reads.
    assert "acme-prices.pdf" in logged_in(app, "maria").get(url).get_data(as_text=True)


def test_presences_have_an_audit_trail(app):
    georgi = logged_in(app, "georgi")
    created = georgi.post(
        "/api/v1/competitors/presences",
        json={"competitor_id": app.ids.acme, "client_id": app.ids.bioprom, "share_percent": "20"},
    ).get_json()
    changed = georgi.patch(
        f"/api/v1/competitors/presences/{created['id']}",
        json={"version": created["version"], "share_percent": "35", "until": "2026-11-30"},
    )
    assert changed.status_code == 200, changed.get_json()
    with app.app_context():
        entries = db_session.execute(
            select(AuditEntry.action, AuditEntry.field, AuditEntry.new_value)
            .where(AuditEntry.model == Presence.__tablename__,
                   AuditEntry.record_id == str(created["id"]))
            .order_by(AuditEntry.id)
        ).all()  # fmt: skip
    assert entries[0].action == "create"
    assert {(e.field, e.new_value) for e in entries[1:]} == {
        ("share_percent", "35.00"),
        ("until", "2026-11-30"),
    }


def test_report_definitions_name_fields_of_registered_models(app):
    with app.test_request_context():
        models = current_state().models
        for report in crm_reports():
            fields = {f.name for f in models.get(report.model).fields}
            named = {*report.columns, *report.filters, *report.group_by, *report.aggregates}
            assert named <= fields, (report.id, named - fields)


def test_the_api_is_in_the_openapi_document(app):
    spec = logged_in(app, "georgi").get("/api/v1/openapi.json").get_json()
    for path in (
        "/api/v1/competitors",
        "/api/v1/competitors/{competitor_id}/changes",
        "/api/v1/competitors/changes/{change_id}",
        "/api/v1/competitors/presences",
        "/api/v1/competitors/presences/{presence_id}",
    ):
        assert path in spec["paths"], path


def test_with_the_catalogue_product_groups_are_its_groups(crm_app_factory, clock, populated):
    app = crm_app_factory(["crm_competitors", "crm_sales"])
    app.ids = populated(app)
    with app.test_request_context():
        # Reached as crm_competitors reaches it: through the registry, never an import.
        group = current_state().models.get("crm_sales_product_group").model
        db_session.add(group(code="BEV", name="Beverages"))
        db_session.commit()
    georgi = logged_in(app, "georgi")
    form = georgi.get("/competitors/presences/new").get_data(as_text=True)
    assert '<select class="form-select" id="f-groups" name="groups" multiple' in form
    assert '<option value="Beverages">Beverages</option>' in form
    body = {"competitor_id": app.ids.acme, "client_id": app.ids.bioprom}
    by_code = georgi.post("/api/v1/competitors/presences", json={**body, "groups": ["bev"]})
    assert by_code.status_code == 201 and by_code.get_json()["groups"] == ["Beverages"]
    unknown = georgi.post("/api/v1/competitors/presences", json={**body, "groups": ["Cigars"]})
    assert unknown.status_code == 400
    assert unknown.get_json()["errors"] == {"groups": ["Not in the product catalogue: “Cigars”."]}
