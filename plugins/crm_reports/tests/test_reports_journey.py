"""Georgi's journey, step 4: turnover by customer group and quarter, with a chart, saved, shared
with the sales managers and exported to Excel; the same figures through the API and the CLI."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from decimal import Decimal

from openpyxl import load_workbook
from reports_helpers import GEORGI_SPEC, pivot_figures, turnover_by_group_quarter

from core.cli import main as crm_cli
from core.testing import form_fields, logged_in

BUILDER_FORM = {
    "model": "crm_sales_line",
    "row0": "client.customer_group.name",
    "col": "date:quarter",
    "measure0": "net_amount:sum",
    "chart": "bar",
    "f0_field": "date",
    "f0_op": "this_year",
}


def test_georgi_builds_saves_shares_and_exports_turnover_by_group_and_quarter(app):
    georgi = logged_in(app, "georgi", "demo")
    # The model is picked by its label, the fields too.
    empty = georgi.get("/reports/builder").get_data(as_text=True)
    assert ">Sales lines</option>" in empty
    page = georgi.get("/reports/builder", query_string=BUILDER_FORM)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Client › Customer group</option>" in html
    assert 'data-testid="report-table"' in html and 'data-testid="report-chart"' in html
    assert "<svg" in html and 'data-testid="totals"' in html

    # Save it, shared with the sales managers, from the form on the page.
    fields = form_fields(html, "/reports/save")
    fields.update(name="Turnover by customer group and quarter", groups=["sales_manager"])
    saved = georgi.post("/reports/save", data=fields)
    assert saved.status_code == 302
    report_id = int(saved.headers["Location"].rsplit("report=", 1)[1])
    listing = georgi.get("/reports/").get_data(as_text=True)
    assert "Turnover by customer group and quarter" in listing and "sales_manager" in listing
    stored = georgi.get(f"/api/v1/reports/{report_id}").get_json()
    assert stored["groups"] == ["sales_manager"]
    assert stored["spec"]["pivot"] == "date:quarter"

    # Export to Excel: the figures are the hand-written SQL's, numbers as numbers.
    export = georgi.get(f"/reports/export?report={report_id}&format=xlsx")
    assert export.status_code == 200
    assert export.headers["Content-Disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(export.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    header, body, totals = rows[0], rows[1:-1], rows[-1]
    assert header[0] == "Client › Customer group" and header[-1] == "Total"
    expected = turnover_by_group_quarter(app)
    assert expected, "the demo data has turnover this year"
    quarters = [h.split(" ")[0] for h in header[1:-1]]  # "Q1 2026" -> the key below
    got = {}
    for row in body:
        for label, value in zip(header[1:-1], row[1:-1], strict=True):
            if value is not None:
                assert isinstance(value, int | float | Decimal)
                q, year = label.split(" ")
                got[(row[0], f"{year}-{q}")] = Decimal(str(value)).quantize(Decimal("0.01"))
    assert got == expected
    assert len(quarters) == len({k[1] for k in expected})
    assert totals[0] == "Total"
    assert Decimal(str(totals[-1])).quantize(Decimal("0.01")) == sum(expected.values())


def test_the_xlsx_holds_a_native_chart(app):
    georgi = logged_in(app, "georgi", "demo")
    export = georgi.get("/reports/export", query_string={"spec": json.dumps(GEORGI_SPEC),
                                                          "format": "xlsx"})  # fmt: skip
    assert export.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(export.data)).namelist()
    assert any(n.startswith("xl/charts/chart") for n in names)


def test_api_and_cli_give_the_same_figures_as_the_hand_written_sql(app, tmp_path):
    georgi = logged_in(app, "georgi", "demo")
    response = georgi.post("/api/v1/reports/run", json=GEORGI_SPEC)
    assert response.status_code == 200
    payload = response.get_json()
    through_api = pivot_figures(payload)
    assert through_api == turnover_by_group_quarter(app)
    assert Decimal(payload["totals"]["overall"]["net_amount:sum"]) == sum(through_api.values())

    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(GEORGI_SPEC))
    out = tmp_path / "out.csv"
    result = app.test_cli_runner().invoke(
        crm_cli, ["reports", "run", str(spec_file), "--format", "csv", "-o", str(out),
                  "--user", "georgi"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    header, body = lines[0], lines[1:-1]
    through_cli = {}
    for row in body:
        for label, value in zip(header[1:-1], row[1:-1], strict=True):
            if value:
                q, year = label.split(" ")
                through_cli[(row[0], f"{year}-{q}")] = Decimal(value)
    assert through_cli == through_api
    assert lines[-1][0] == "Total"
    assert Decimal(lines[-1][-1]) == sum(through_api.values())


def test_the_cli_refuses_a_bad_spec_naming_the_part(app, tmp_path):
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps({**GEORGI_SPEC, "measures": [{"field": "nope", "agg": "sum"}]}))
    result = app.test_cli_runner().invoke(
        crm_cli,
        ["reports", "run", str(spec_file), "-o", str(tmp_path / "x.csv"), "--user", "georgi"],
    )
    assert result.exit_code != 0
    assert "measures[0].field" in result.output


def test_a_cell_drills_down_to_the_records_with_links_to_their_pages(app):
    georgi = logged_in(app, "georgi", "demo")
    spec = {"model": "crm_sales_line", "filters": [{"field": "date", "op": "this_year"}],
            "group_by": [{"field": "client"}],
            "measures": [{"field": "id", "agg": "count"}]}  # fmt: skip
    payload = georgi.post("/api/v1/reports/run", json=spec).get_json()
    keys, count = payload["keys"][0], payload["rows"][0][1]
    page = georgi.get("/reports/drill", query_string={"spec": json.dumps(spec),
                                                       "keys": json.dumps(keys)})  # fmt: skip
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"{count} record" in html
    assert html.count("/sales/documents/") == min(count, 50)


def test_swapping_rows_and_columns(app):
    georgi = logged_in(app, "georgi", "demo")
    page = georgi.get("/reports/builder", query_string={**BUILDER_FORM, "swap": "1"})
    html = page.get_data(as_text=True)
    fields = form_fields(html, "/reports/save")
    spec = json.loads(fields["spec"])
    assert spec["group_by"][0] == {"field": "date", "bucket": "quarter"}
    assert spec["pivot"] == "client.customer_group.name"


def test_a_filter_on_a_record_is_a_record_picker(app):
    georgi = logged_in(app, "georgi", "demo")
    spec = {"model": "crm_sales_line", "group_by": [{"field": "client"}],
            "measures": [{"field": "id", "agg": "count"}]}  # fmt: skip
    client_id = georgi.post("/api/v1/reports/run", json=spec).get_json()["keys"][0][0]
    name = georgi.post("/api/v1/reports/run", json=spec).get_json()["rows"][0][0]
    form = {**BUILDER_FORM, "f1_field": "client", "f1_op": "=", "f1_value": str(client_id)}
    html = georgi.get("/reports/builder", query_string=form).get_data(as_text=True)
    assert 'name="f1_value" data-picker="crm_contacts_client"' in html
    assert f'<option value="{client_id}" selected>{name}</option>' in html
    # The filter holds: one client's turnover only.
    spec = json.loads(form_fields(html, "/reports/save")["spec"])
    assert {"field": "client", "op": "=", "value": str(client_id)} in spec["filters"]
