"""The quote API through the whole stack: rules created by a manager through the API, turnover
from real invoices (net of credit notes), the explanation of every rule considered."""

from __future__ import annotations

import time_machine
from pricing_helpers import NOW

from core.testing import logged_in

TIERS = [{"threshold": 20000, "percent": 2}, {"threshold": 50000, "percent": 3},
         {"threshold": 100000, "percent": 5}]  # fmt: skip


def _policy(app):
    http = logged_in(app, "georgi")
    ids = app.ids
    rules = [
        {"name": "Wholesale 3 %", "kind": "crm_pricing.customer_group_discount",
         "params": {"percent": 3}, "customer_group_id": ids.wholesale, "priority": 30},
        {"name": "Quantity breaks", "kind": "crm_pricing.quantity_breaks",
         "params": {"tiers": [{"threshold": 100, "percent": 2}, {"threshold": 500, "percent": 4}]},
         "priority": 40},
        {"name": "Quarterly tiers", "kind": "crm_pricing.turnover_tiers",
         "params": {"period": "quarter", "tiers": TIERS}, "priority": 50},
        {"name": "Early payment", "kind": "crm_pricing.early_payment",
         "params": {"days": 10, "percent": 2}, "priority": 70},
    ]  # fmt: skip
    for rule in rules:
        answer = http.post("/api/v1/pricing/rules", json=rule)
        assert answer.status_code == 201, answer.get_json()
    return http


def test_a_quote_applies_every_rule_in_order_and_explains_them(shop):
    with time_machine.travel(NOW, tick=False):
        _policy(shop)
        http = logged_in(shop, "maria")
        answer = http.post(
            "/api/v1/pricing/quote",
            json={"client_id": shop.ids.bioprom, "product_code": "PAP-A4", "quantity": 500,
                  "payment_days": 10},
        )  # fmt: skip
    assert answer.status_code == 200, answer.get_json()
    quote = answer.get_json()
    # 10.00 × 0.97 × 0.96 × 0.97 × 0.98 = 8.8519872
    assert quote["unit_price"] == "8.85"
    assert quote["list_price"] == "10.0000" and quote["currency"] == "EUR"
    assert quote["line_total"] == "4425.00"
    assert quote["date"] == "2026-11-26"
    assert [a["rule"] for a in quote["adjustments"]] == [
        "Wholesale 3 %", "Quantity breaks", "Quarterly tiers", "Early payment"
    ]  # fmt: skip
    tiers = quote["adjustments"][2]
    assert tiers["reason"] == (
        "Q3 2026: quarterly turnover 61,200.00 reaches the 50,000.00 tier: 3 %; "
        "38,800.00 short of the 100,000.00 tier (5 %)"
    )
    assert tiers["percent"] == "3" and tiers["kind"] == "crm_pricing.turnover_tiers"
    assert quote["not_applied"] == []
    assert quote["total_discount_percent"] == "11.48"


def test_the_explanation_names_rules_not_applied_with_the_missing_amounts(shop):
    with time_machine.travel(NOW, tick=False):
        _policy(shop)
        http = logged_in(shop, "peter")
        answer = http.post(
            "/api/v1/pricing/quote",
            json={"client_id": shop.ids.kalina, "product_id": shop.ids.cart},
        )
    quote = answer.get_json()
    assert quote["unit_price"] == "25.00"
    reasons = {n["rule"]: n["reason"] for n in quote["not_applied"]}
    assert reasons == {
        "Quantity breaks": "quantity 1 is 99 short of the 100 break (2 %)",
        "Quarterly tiers": "Q3 2026: quarterly turnover 0.00 is 20,000.00 short of the "
        "20,000.00 tier (2 %)",
        "Early payment": "no payment term given; paying within 10 days gives 2 %",
    }
    # the Wholesale rule is for another customer group: not considered for Kalina at all
    assert "Wholesale 3 %" not in reasons


def test_the_client_payment_term_is_used_when_the_request_gives_none(shop):
    with time_machine.travel(NOW, tick=False):
        _policy(shop)
        quote = (
            logged_in(shop, "maria")
            .post(
                "/api/v1/pricing/quote",
                json={"client_id": shop.ids.bioprom, "product_code": "PAP-A4"},
            )
            .get_json()
        )
    assert quote["payment_days"] == 30
    reasons = {n["rule"]: n["reason"] for n in quote["not_applied"]}
    assert reasons["Early payment"] == "payment in 30 days; within 10 days would give 2 %"


def test_bad_requests_name_the_field(shop):
    http = logged_in(shop, "maria")
    cases = [
        ({"product_code": "PAP-A4"}, "client_id"),
        ({"client_id": shop.ids.bioprom}, "product_id"),
        ({"client_id": shop.ids.bioprom, "product_code": "PAP-A4", "quantity": 0}, "quantity"),
        ({"client_id": shop.ids.bioprom, "product_code": "PAP-A4", "payment_days": -1},
         "payment_days"),
        ({"client_id": shop.ids.bioprom, "product_code": "NOPE"}, "product"),
        ({"client_id": 999999, "product_code": "PAP-A4"}, "client_id"),
        # maria may not see peter's client: it does not exist for her
        ({"client_id": shop.ids.kalina, "product_code": "PAP-A4"}, "client_id"),
    ]  # fmt: skip
    for body, field in cases:
        answer = http.post("/api/v1/pricing/quote", json=body)
        assert answer.status_code == 400, body
        assert field in answer.get_json()["errors"], (body, answer.get_json())
    assert http.post("/api/v1/pricing/quote", data="[]").status_code == 400
    assert shop.test_client().post("/api/v1/pricing/quote", json={}).status_code == 401


def test_a_batch_prices_many_lines_in_one_run(shop, count_queries):
    with time_machine.travel(NOW, tick=False):
        _policy(shop)
        http = logged_in(shop, "maria")
        body = {"client_id": shop.ids.bioprom, "payment_days": 5,
                "lines": [{"product_code": "PAP-A4", "quantity": 500},
                          {"product_id": shop.ids.cart, "quantity": 2}]}  # fmt: skip
        with count_queries(shop) as two:
            answer = http.post("/api/v1/pricing/quote/batch", json=body)
        body["lines"] = body["lines"] * 50
        with count_queries(shop) as hundred:
            many = http.post("/api/v1/pricing/quote/batch", json=body)
    assert answer.status_code == 200, answer.get_json()
    items = answer.get_json()["items"]
    assert [i["unit_price"] for i in items] == ["8.85", "23.05"]  # 25 × .97 × .97 × .98 = 23.052
    assert answer.get_json()["total"] == "4471.10"
    assert len(many.get_json()["items"]) == 100
    assert len(hundred) == len(two)
    bad = http.post("/api/v1/pricing/quote/batch", json={"client_id": shop.ids.bioprom,
                                                         "lines": []})  # fmt: skip
    assert "lines" in bad.get_json()["errors"]
