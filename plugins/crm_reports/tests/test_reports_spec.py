"""The spec: checked against the registry (400 naming the part), buckets in the installation's time
zone, relative periods, totals; every ready-made report runs; a partner's definitions appear."""

from __future__ import annotations

import types
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from reports_helpers import MODULES
from sqlalchemy import text

from core import Manifest, hookimpl
from core.db import db_session
from core.plugins import PluginInfo
from core.reports import ReportDefinition
from core.state import current_state
from core.testing import logged_in, make_user

LINES = "crm_sales_line"


@pytest.mark.parametrize(
    ("spec", "where", "words"),
    [
        ({"model": "crm_nothing"}, "model", "unknown model"),
        ({"model": LINES, "group_by": [{"field": "client.nope"}]}, "group_by[0].field", "no field"),
        ({"model": LINES, "group_by": [{"field": "net_amount", "bucket": "month"}]},
         "group_by[0].bucket", "not a date"),
        ({"model": LINES, "group_by": [{"field": "date", "bucket": "fortnight"}]},
         "group_by[0].bucket", "one of"),
        ({"model": LINES, "filters": [{"field": "net_amount", "op": "contains", "value": "1"}]},
         "filters[0].op", "does not apply"),
        ({"model": LINES, "filters": [{"field": "date", "op": "=", "value": "yesterday-ish"}]},
         "filters[0].value", "not a date"),
        ({"model": LINES, "measures": [{"field": "client.name", "agg": "sum"}]},
         "measures[0].agg", "needs a number"),
        ({"model": LINES, "group_by": [{"field": "date", "bucket": "year"}], "pivot": "date"},
         "pivot", "second group-by"),
        ({"model": LINES, "limit": 0}, "limit", "whole number"),
        ({"model": LINES, "group_by": [{"field": "client"}], "chart": {"type": "radar"}},
         "chart.type", "one of"),
    ],
)  # fmt: skip
def test_a_bad_spec_is_a_400_naming_its_part(app, spec, where, words):
    georgi = logged_in(app, "georgi", "demo")
    response = georgi.post("/api/v1/reports/run", json=spec)
    assert response.status_code == 400
    errors = response.get_json()["errors"]
    assert list(errors) == [where] and words in errors[where][0]


def test_every_ready_made_report_runs_on_the_demo_data(app):
    georgi = logged_in(app, "georgi", "demo")
    items = [
        i for i in georgi.get("/api/v1/reports").get_json()["items"] if i["kind"] == "ready_made"
    ]
    modules = {i["module"] for i in items}
    assert modules == set(MODULES) - {"crm_reports"}
    for item in items:
        response = georgi.post("/api/v1/reports/run", json=item["spec"])
        assert response.status_code == 200, (item["id"], response.get_json())
        assert response.get_json()["rows"], f"{item['id']} is empty on the demo data"
        page = georgi.get(f"/reports/builder?ready={item['id']}")
        assert page.status_code == 200 and b'data-testid="report-table"' in page.data, item["id"]
    listing = georgi.get("/reports/").get_data(as_text=True)
    assert "Turnover by customer group and quarter" in listing


def test_year_on_year_columns(app):
    georgi = logged_in(app, "georgi", "demo")
    definition = georgi.get("/api/v1/reports/crm_sales.turnover_by_product_group_year").get_json()
    payload = georgi.post("/api/v1/reports/run", json=definition["spec"]).get_json()
    labels = [c["label"] for c in payload["columns"]]
    assert labels[-1].startswith("Change ") and labels[-2] == "Total"
    for row in payload["rows"]:
        before, now, change = row[1], row[2], row[-1]
        if before and now and Decimal(before):
            expected = (Decimal(now) - Decimal(before)) * 100 / Decimal(before)
            assert Decimal(change) == expected.quantize(Decimal("0.1"))


def test_buckets_are_in_the_installations_time_zone(crm_app_factory):
    app = crm_app_factory(MODULES, config={"TIMEZONE": "Europe/Sofia"})
    make_user(app, "georgi", groups=("sales_manager",))
    with app.app_context():
        models = current_state().models
        client = models.get("crm_contacts_client").model(name="Bioprom")
        db_session.add(client)
        db_session.flush()
        kind = db_session.execute(text("SELECT id FROM crm_contacts_contact_type")).scalar()
        contact = models.get("crm_contacts_contact").model
        # 22:30 UTC on 31 March is 01:30 on 1 April in Sofia (UTC+3 in summer time).
        for moment in (datetime(2026, 3, 31, 22, 30, tzinfo=UTC),
                       datetime(2026, 3, 31, 20, 0, tzinfo=UTC)):  # fmt: skip
            db_session.add(contact(client_id=client.id, contact_type_id=kind, starts_at=moment))
        db_session.commit()
    georgi = logged_in(app, "georgi")
    spec = {"model": "crm_contacts_contact",
            "group_by": [{"field": "starts_at", "bucket": "month"}],
            "measures": [{"field": "id", "agg": "count"}]}  # fmt: skip
    rows = georgi.post("/api/v1/reports/run", json=spec).get_json()["rows"]
    assert rows == [["2026-03", 1], ["2026-04", 1]]
    day = {**spec, "filters": [{"field": "starts_at", "op": "=", "value": "2026-04-01"}]}
    assert georgi.post("/api/v1/reports/run", json=day).get_json()["rows"] == [["2026-04", 1]]


def test_totals_of_averages_and_distinct_counts_are_computed_not_added(app):
    georgi = logged_in(app, "georgi", "demo")
    spec = {"model": LINES, "group_by": [{"field": "client.customer_group.name"}],
            "measures": [{"field": "net_amount", "agg": "avg"},
                         {"field": "client", "agg": "count_distinct"}]}  # fmt: skip
    payload = georgi.post("/api/v1/reports/run", json=spec).get_json()
    overall = payload["totals"]["overall"]
    with app.extensions["crm"].engine.connect() as connection:
        average, clients = connection.execute(
            text("SELECT AVG(net_amount), COUNT(DISTINCT client_id) FROM crm_sales_line")
        ).one()
    assert overall["client:count_distinct"] == clients
    assert Decimal(overall["net_amount:avg"]) == Decimal(str(average)).quantize(Decimal("0.01"))


def _partner_plugin() -> PluginInfo:
    module = types.ModuleType("acme_visits")
    module.MANIFEST = Manifest(name="acme_visits", depends=("crm_sales",))

    @hookimpl
    def crm_reports():
        return [
            ReportDefinition(
                id="acme_visits.lines_per_month",
                title="Acme: sales lines per month",
                model="crm_sales_line",
                spec={
                    "group_by": [{"field": "date", "bucket": "month"}],
                    "measures": [{"field": "id", "agg": "count"}],
                    "chart": {"type": "line"},
                },
            ),  # fmt: skip
            ReportDefinition(
                id="acme_visits.broken",
                title="Acme: broken",
                model="crm_sales_line",
                columns=("no_such_field",),
            ),  # fmt: skip
        ]

    module.crm_reports = crm_reports
    return PluginInfo(name="acme_visits", manifest=module.MANIFEST, module=module, version="0.1")


def test_a_partners_definition_with_a_date_bucket_appears_and_runs(crm_app_factory, crm_plugins):
    plugins = {**crm_plugins, "acme_visits": _partner_plugin()}
    app = crm_app_factory([*MODULES, "acme_visits"], plugins=plugins)
    make_user(app, "georgi", groups=("sales_manager",))
    georgi = logged_in(app, "georgi")
    items = {i["id"]: i for i in georgi.get("/api/v1/reports").get_json()["items"]}
    assert "acme_visits.lines_per_month" in items
    # The bad one is skipped, reported with its module.
    assert "acme_visits.broken" not in items
    with app.app_context():
        assert "acme_visits.broken" in current_state().errors["acme_visits"]
    spec = items["acme_visits.lines_per_month"]["spec"]
    assert georgi.post("/api/v1/reports/run", json=spec).status_code == 200
    page = georgi.get("/reports/builder?ready=acme_visits.lines_per_month")
    assert page.status_code == 200
    assert "Acme: sales lines per month" in georgi.get("/reports/").get_data(as_text=True)


def test_a_definition_in_the_older_form_keeps_working():
    legacy = ReportDefinition(
        id="acme.per_client", title="Per client", model="crm_sales_line",
        columns=("client_id", "net_amount"), filters=("date",), group_by=("client_id",),
        aggregates={"net_amount": "sum"}, chart="bar",
    )  # fmt: skip
    assert legacy.as_spec() == {
        "model": "crm_sales_line", "filters": [], "group_by": [{"field": "client_id"}],
        "measures": [{"field": "net_amount", "agg": "sum"}], "columns": [],
        "filter_fields": ["date"], "chart": {"type": "bar", "x": "client_id"},
    }  # fmt: skip


def test_the_api_is_in_the_openapi_document(app):
    georgi = logged_in(app, "georgi", "demo")
    paths = georgi.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/reports"])
    assert "post" in paths["/api/v1/reports/run"]
    assert {"get", "patch", "delete"} <= set(paths["/api/v1/reports/{report_id}"])
    assert "get" in paths["/api/v1/reports/{report_id}/export"]
