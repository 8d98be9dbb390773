"""Pickers and generated forms in a real browser: typed into, chosen with the keyboard, saved."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest

from core.db import db_session
from core.testing import TEST_PASSWORD, make_user

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TIERS = "params[crm_pricing.turnover_tiers]."


@pytest.fixture
def shop(crm_app_factory, live_server_for):
    app = crm_app_factory(["crm_pricing", "crm_tasks"])
    ids = SimpleNamespace(
        maria=make_user(app, "maria", groups=("sales_rep",)),
        peter=make_user(app, "peter", groups=("sales_rep",)),
        georgi=make_user(app, "georgi", groups=("sales_manager",)),
    )
    with app.app_context():
        from crm_contacts.models import Client
        from crm_sales.models import Product, ProductGroup

        paper = ProductGroup(code="PAPER", name="Paper")
        bioprom = Client(name="Bioprom", vat_number="BG123456789", responsible_id=ids.maria)
        kalina = Client(name="Kalina", responsible_id=ids.peter)
        db_session.add_all(
            [
                paper,
                bioprom,
                kalina,
                Product(code="PAP-A4", name="Copy paper A4", list_price=Decimal(10), group=paper),
                Product(code="INK-BK", name="Black cartridge", list_price=Decimal(25)),
            ]
        )
        db_session.commit()
        ids.bioprom, ids.kalina, ids.paper = bioprom.id, kalina.id, paper.id
    server = live_server_for(app)
    return SimpleNamespace(url=server.url, ids=ids, app=app)


def _choose(page, control: str, text: str) -> None:
    """Type into a picker and take the first match with Enter, as a keyboard user does."""
    page.focus(control)
    page.keyboard.type(text, delay=20)
    page.locator(".ts-dropdown .option.active", has_text=text).wait_for()
    page.keyboard.press("Enter")


def test_the_simulator_from_the_client_file_with_the_keyboard(shop, page, browser_login, shot):
    browser_login(page, shop.url, "maria", TEST_PASSWORD)
    page.goto(f"{shop.url}/contacts/clients/{shop.ids.bioprom}")
    page.get_by_role("link", name="Quote simulator").click()
    page.wait_for_url("**/pricing/simulator?client_id=*")
    # prefilled with the client, and no message
    assert "Bioprom" in page.locator("#f-client_id-ts-control").locator("..").inner_text()
    assert page.locator(".invalid-feedback").count() == 0

    # a client she may not see is not offered
    page.focus("#f-client_id-ts-control")
    page.keyboard.type("kal", delay=20)
    page.locator(".ts-dropdown .no-results", has_text="Nothing found").wait_for()
    page.keyboard.press("Escape")
    shot(page, "simulator-client-picker-no-match")

    # the product by a few letters of its name, chosen with Enter; then Tab to the quantity
    _choose(page, "#f-product_id-ts-control", "copy")
    shot(page, "simulator-product-chosen")
    page.keyboard.press("Tab")
    page.keyboard.type("500")
    page.keyboard.press("Enter")
    quote = page.get_by_test_id("quote")
    quote.wait_for()
    assert "Copy paper A4 × 500" in quote.inner_text()
    assert "Bioprom" in page.locator("#f-client_id-ts-control").locator("..").inner_text()
    shot(page, "simulator-priced")
    assert page.crm_errors == []


def test_a_tier_rule_is_written_in_a_generated_form(shop, page, browser_login, shot):
    browser_login(page, shop.url, "georgi", TEST_PASSWORD)
    page.goto(f"{shop.url}/pricing/rules/new")
    page.fill("#f-name", "Quarterly tiers")
    page.select_option("#f-kind", "crm_pricing.turnover_tiers")
    tiers = page.get_by_test_id("params-crm_pricing.turnover_tiers")
    assert tiers.is_visible()
    assert not page.get_by_test_id("params-crm_pricing.early_payment").is_visible()
    assert page.locator("textarea[name^=params]").count() == 0

    page.fill(f'[name="{TIERS}tiers.0.threshold"]', "50000")
    page.fill(f'[name="{TIERS}tiers.0.percent"]', "3")
    tiers.get_by_role("button", name="Add a row").click()
    # the new row's first input has the focus
    page.keyboard.type("100000")
    page.keyboard.press("Tab")
    page.keyboard.type("5")
    tiers.get_by_role("button", name="Add a row").click()
    page.keyboard.type("7")  # a row begun and then removed
    tiers.locator("tbody tr").last.get_by_role("button", name="Remove").click()
    page.select_option(f'[name="{TIERS}period"]', "quarter")
    _choose(page, "#f-params-crm-pricing-turnover-tiers--group-ids-ts-control", "pap")
    shot(page, "rule-form-tiers")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/pricing/rules")
    assert "Quarterly tiers" in page.content()

    rules = page.request.get(f"{shop.url}/api/v1/pricing/rules").json()["items"]
    assert rules[0]["params"] == {
        "period": "quarter",
        "basis": "last_completed",
        "group_ids": [shop.ids.paper],
        "tiers": [{"threshold": 50000, "percent": 3}, {"threshold": 100000, "percent": 5}],
    }

    # a second rule of the same kind for the same clients: the form says so before saving
    page.goto(f"{shop.url}/pricing/rules/new")
    page.fill("#f-name", "Wholesale tiers")
    page.select_option("#f-kind", "crm_pricing.turnover_tiers")
    page.fill(f'[name="{TIERS}tiers.0.threshold"]', "1000")
    page.fill(f'[name="{TIERS}tiers.0.percent"]', "x")
    page.select_option(f'[name="{TIERS}period"]', "year")
    page.get_by_role("button", name="Save").click()
    error = page.locator(f'[data-error="{TIERS}tiers.0.percent"]')
    assert error.inner_text() == "Not a valid number."
    # what was typed is kept, the chosen kind's form still shown
    assert page.input_value(f'[name="{TIERS}tiers.0.threshold"]') == "1000"
    page.fill(f'[name="{TIERS}tiers.0.percent"]', "2")
    page.get_by_role("button", name="Save").click()
    overlaps = page.get_by_test_id("overlaps")
    overlaps.wait_for()
    assert "Quarterly tiers" in overlaps.inner_text()
    assert "both apply, one after the other" in overlaps.inner_text()
    shot(page, "rule-form-overlap")
    page.check("#f-confirm_overlap")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/pricing/rules")
    assert "Wholesale tiers" in page.content()
    assert page.crm_errors == []
