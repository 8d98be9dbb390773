"""Permissions without exception: a representative's reports add up only her clients, joined
tables included; a shared report runs with the opener's rights; a model of a module the user may
not read is neither listed nor runnable."""

from __future__ import annotations

import json
from decimal import Decimal

from reports_helpers import GEORGI_SPEC, pivot_figures, turnover_by_group_quarter, user_id
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core.models import Group, PermissionRecord
from core.modules import bump_signal
from core.record_rules import set_rule_enabled
from core.testing import logged_in, make_user


def _save_shared(app, spec=GEORGI_SPEC) -> int:
    georgi = logged_in(app, "georgi", "demo")
    response = georgi.post("/api/v1/reports", json={
        "name": "Turnover by group and quarter", "spec": spec,
        "groups": ["sales_manager", "sales_rep"]})  # fmt: skip
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_a_representative_running_a_shared_report_sees_only_her_clients(app):
    report_id = _save_shared(app)
    maria = logged_in(app, "maria", "demo")
    assert report_id in [i["id"] for i in maria.get("/api/v1/reports").get_json()["items"]]
    spec = maria.get(f"/api/v1/reports/{report_id}").get_json()["spec"]
    payload = maria.post("/api/v1/reports/run", json=spec).get_json()
    hers = pivot_figures(payload)
    expected = turnover_by_group_quarter(app, responsible_id=user_id(app, "maria"))
    everyone = turnover_by_group_quarter(app)
    assert hers == expected
    assert sum(hers.values()) < sum(everyone.values())
    assert Decimal(payload["totals"]["overall"]["net_amount:sum"]) == sum(expected.values())
    # The author's view is not what she gets: Georgi sees everything.
    georgi = logged_in(app, "georgi", "demo")
    assert pivot_figures(georgi.post("/api/v1/reports/run", json=spec).get_json()) == everyone


def test_record_rules_reach_the_joined_tables(app):
    """With the sales lines' own rule off, the client joined to the line still restricts them:
    the rules apply to every table of the statement, not only to its model."""
    with Session(app.extensions["crm"].engine) as session:
        set_rule_enabled(session, "crm_sales.own_lines", False)
        bump_signal(session)
        session.commit()
    maria = logged_in(app, "maria", "demo")
    payload = maria.post("/api/v1/reports/run", json=GEORGI_SPEC).get_json()
    assert pivot_figures(payload) == turnover_by_group_quarter(app, user_id(app, "maria"))
    # Grouped by client: only her clients' names appear.
    by_client = {"model": "crm_sales_line", "group_by": [{"field": "client.name"}],
                 "measures": [{"field": "id", "agg": "count"}]}  # fmt: skip
    names = {row[0] for row in maria.post("/api/v1/reports/run", json=by_client).get_json()["rows"]}
    with app.extensions["crm"].engine.connect() as connection:
        from sqlalchemy import text

        hers = set(connection.execute(
            text("SELECT DISTINCT c.name FROM crm_contacts_client c JOIN crm_sales_line l "
                 "ON l.client_id = c.id WHERE c.responsible_id = :rep"),
            {"rep": user_id(app, "maria")}).scalars())  # fmt: skip
    assert names == hers


def test_the_export_of_a_shared_report_holds_only_the_openers_rows(app):
    report_id = _save_shared(app)
    maria = logged_in(app, "maria", "demo")
    export = maria.get(f"/api/v1/reports/{report_id}/export?format=csv")
    assert export.status_code == 200
    last = export.get_data(as_text=True).strip().splitlines()[-1].split(",")
    expected = turnover_by_group_quarter(app, user_id(app, "maria"))
    assert last[0] == "Total" and Decimal(last[-1]) == sum(expected.values())


def _reporter(app) -> None:
    """A user whose group may run reports and read sales, but not clients (crm_contacts)."""
    with Session(app.extensions["crm"].engine) as session:
        group = Group(code="reporter", name="Reporters")
        codes = ("crm_reports.read", "crm_reports.write", "crm_sales.read")
        group.permissions = list(
            session.scalars(select(PermissionRecord).where(PermissionRecord.code.in_(codes)))
        )
        session.add(group)
        session.commit()
    make_user(app, "rita", groups=("reporter",))


def test_a_model_of_a_module_she_may_not_read_is_neither_listed_nor_runnable(app):
    _reporter(app)
    rita = logged_in(app, "rita")
    models = {m["name"] for m in rita.get("/api/v1/reports/models").get_json()["items"]}
    assert "crm_sales_line" in models and "crm_contacts_client" not in models
    listed = {i["id"] for i in rita.get("/api/v1/reports").get_json()["items"]}
    assert "crm_sales.turnover_by_group" in listed
    assert "crm_contacts.clients_by_group_representative" not in listed
    # Through a relation into it: 403, naming the part of the spec.
    response = rita.post("/api/v1/reports/run", json=GEORGI_SPEC)
    assert response.status_code == 403
    assert "group_by[0].field" in response.get_json()["errors"]
    direct = rita.post("/api/v1/reports/run", json={"model": "crm_contacts_client"})
    assert direct.status_code == 403 and "model" in direct.get_json()["errors"]
    page = rita.get("/reports/builder", query_string={"spec": json.dumps(GEORGI_SPEC)})
    assert page.status_code == 403
    assert (
        rita.get("/reports/builder?ready=crm_contacts.clients_by_group_representative").status_code
        == 404
    )
    # What she may read runs.
    ok = {"model": "crm_sales_line", "group_by": [{"field": "product.group.name"}],
          "measures": [{"field": "net_amount", "agg": "sum"}]}  # fmt: skip
    assert rita.post("/api/v1/reports/run", json=ok).status_code == 200


def test_without_the_reports_permission_nothing_opens(app):
    guest = logged_in(app, "guest")
    assert guest.get("/reports/").status_code == 403
    assert guest.post("/api/v1/reports/run", json=GEORGI_SPEC).status_code == 403


def test_a_representative_may_run_but_not_save_and_nobody_changes_anothers_report(app):
    report_id = _save_shared(app)
    maria = logged_in(app, "maria", "demo")
    assert maria.post("/api/v1/reports", json={"name": "x", "spec": GEORGI_SPEC}).status_code == 403
    assert maria.delete(f"/api/v1/reports/{report_id}").status_code == 403
    make_user(app, "manager2", groups=("sales_manager",))
    other = logged_in(app, "manager2")
    assert other.patch(f"/api/v1/reports/{report_id}", json={"name": "Mine"}).status_code == 403
    georgi = logged_in(app, "georgi", "demo")
    renamed = georgi.patch(f"/api/v1/reports/{report_id}", json={"name": "Board figures"})
    assert renamed.status_code == 200 and renamed.get_json()["name"] == "Board figures"
    assert georgi.delete(f"/api/v1/reports/{report_id}").status_code == 204
    assert maria.get(f"/api/v1/reports/{report_id}").status_code == 404


def test_clients_per_turnover_tier_counts_only_the_representatives_clients(app):
    """crm_pricing's ready-made report: each rule's clients by tier, a representative's own
    clients only (the tier rows follow their client), equal to SQL restricted by hand."""

    def by_hand(rep: int | None) -> dict:
        where = "WHERE c.responsible_id = :rep" if rep is not None else ""
        sql = text(
            "SELECT r.name, t.tier, COUNT(DISTINCT t.client_id) FROM crm_pricing_client_tier t "
            "JOIN crm_pricing_rule r ON r.id = t.rule_id "
            f"JOIN crm_contacts_client c ON c.id = t.client_id {where} GROUP BY r.name, t.tier"
        )
        with app.extensions["crm"].engine.connect() as connection:
            return {(name, tier): n for name, tier, n in connection.execute(sql, {"rep": rep})}

    def counted(login: str) -> dict:
        user = logged_in(app, login, "demo")
        spec = user.get("/api/v1/reports/crm_pricing.clients_per_turnover_tier").get_json()["spec"]
        payload = user.post("/api/v1/reports/run", json=spec).get_json()
        return {(row[0], row[1]): row[2] for row in payload["rows"]}

    hers, everyone = counted("maria"), counted("georgi")
    assert hers == by_hand(user_id(app, "maria"))
    assert everyone == by_hand(None)
    assert 0 < sum(hers.values()) < sum(everyone.values())
    assert len({tier for _, tier in everyone}) > 1  # the demo's clients fall in several tiers
