"""Georgi's day (JOURNEYS.md, sales manager), clicked through in Chromium as georgi.

Step 1 opens a figure of the monitoring and sees the tasks behind it. Step 2's new pricing rules
are created through the rule form in crm_pricing's own tests; here he checks their effect in the
simulator. Step 3 records a competitor's 10 % price cut in the north region and sees the clients
it is present at (crm_competitors); step 4 builds turnover by customer group and quarter with a
chart, saves it and exports it to Excel (crm_reports).
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import pick


def open_menu(page, menu: str, entry: str) -> None:
    page.get_by_test_id("main-menu").get_by_role("button", name=menu).or_(
        page.get_by_test_id("main-menu").get_by_role("link", name=menu, exact=True)
    ).first.click()
    page.get_by_role("link", name=entry, exact=True).first.click()


def test_georgi_day(browsing):
    page = browsing.as_role("manager")
    page.goto("/")

    # 1. Commitments by representative and by type, this quarter against the last.
    open_menu(page, "Tasks", "Monitoring commitments")
    expect(page.get_by_role("heading", name="Monitoring commitments")).to_be_visible()
    page.get_by_label("Period").select_option(label="This quarter")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text(re.compile(r"compared with"))).to_be_visible()
    by_type = page.locator("table").filter(has_text="Provide an offer").first
    expect(by_type).to_contain_text("Overdue")
    by_rep = page.locator("table").filter(has_text="Maria Petrova").first
    expect(by_rep).to_contain_text("Peter Ivanov")
    expect(page.get_by_test_id("by-representative-and-type")).to_contain_text("Provide an offer")
    # A figure opens the tasks behind it: as many as it says.
    offers = page.get_by_test_id("by-type").locator("tr[data-row='Provide an offer']")
    open_offers = offers.locator("td[data-col=open] a")
    shown = int(open_offers.inner_text())
    open_offers.click()
    expect(page.get_by_role("heading", name=re.compile("All tasks"))).to_be_visible()
    expect(page.get_by_test_id("total")).to_have_text(str(shown))
    expect(page.get_by_label("Commitment type")).to_have_value(re.compile(r"\d+"))
    page.go_back()

    # 2. The pricing policy's effect, checked in the simulator for a wholesale client.
    open_menu(page, "Pricing", "Quote simulator")
    pick(page, "Client", "a")
    pick(page, "Product", "Drill")
    page.get_by_label("Quantity").fill("100")
    page.get_by_label("Payment in (days)").fill("10")
    page.get_by_role("button", name="Price").click()
    expect(page.get_by_test_id("quote")).to_contain_text("per unit")

    # 3. A competitor cut its prices by 10 % in the north region: recorded, and the clients where
    # it is present there are listed.
    open_menu(page, "Competitors", "Presence at clients")
    page.get_by_label("Region").select_option(label="North")
    page.get_by_role("button", name=re.compile("Show|Filter")).first.click()
    present = page.locator("table tbody tr").first
    competitor = present.locator("td").nth(2).inner_text().strip()
    present.get_by_role("link", name=competitor).click()
    expect(page.get_by_role("heading", name=re.compile(re.escape(competitor)))).to_be_visible()
    page.get_by_role("link", name="Record a move").click()
    page.get_by_label("Kind").select_option(label="Price change")
    page.get_by_label("Price change (%)").fill("-10")
    page.get_by_label("Regions").select_option(label="North")
    page.get_by_label("What happened").fill("Cut all list prices by 10 % in the north.")
    page.get_by_role("button", name="Record and show who is affected").click()
    expect(page.get_by_test_id("change-regions")).to_contain_text("North")
    affected = page.get_by_test_id("affected")
    expect(affected.get_by_test_id("affected-total")).not_to_have_text("0")
    expect(affected.locator("tbody tr").first).to_contain_text("North")

    # 4. A report: turnover by customer group and quarter, with a chart, saved, then to Excel.
    open_menu(page, "Reports", "New report")
    page.get_by_label("Report on").select_option(label="Sales lines")
    page.get_by_label("Row group 1").select_option(label="Client › Customer group")
    page.get_by_label("Columns").select_option(label="Date (by quarter)")
    page.get_by_label("Figure 1").select_option(label="Net amount (sum)")
    page.get_by_label("Chart").select_option(value="bar")
    page.get_by_role("button", name="Run").click()
    expect(page.get_by_test_id("report-chart").locator("svg")).to_be_visible()
    expect(page.get_by_test_id("report-table")).to_contain_text("Wholesale")
    save = page.get_by_test_id("save-form")
    save.get_by_label("Name").fill("Turnover by customer group and quarter")
    save.get_by_role("button", name="Save", exact=True).click()
    open_menu(page, "Reports", "All reports")
    expect(page.get_by_text("Turnover by customer group and quarter").first).to_be_visible()
    page.get_by_role("link", name="Turnover by customer group and quarter").first.click()
    with page.expect_download() as download:
        page.get_by_test_id("export-xlsx").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    with open(download.value.path(), "rb") as workbook:
        assert workbook.read(2) == b"PK"  # an OOXML (zip) file

    # 5. Contracts expiring in the next 60 days; he assigns a renewal.
    open_menu(page, "Contracts", "Expiring soon")
    expect(page.get_by_role("heading", name="Contracts expiring soon")).to_be_visible()
    first = page.locator("form[action$='/assign']").first
    expect(first).to_be_visible()
    number = re.search(r"C-\d{4}-\d{4}", first.inner_text() or first.locator("..").inner_text())
    pick(page, f"Representative for the renewal of {number.group(0)}", "Maria", "Maria Petrova")
    # Submitted from the keyboard: a mouse click on "Assign" right after choosing was seen not to
    # submit the form (reported with the pickers).
    first.get_by_role("button", name="Assign").press("Enter")
    expect(page.get_by_role("alert")).to_contain_text(
        f"Maria Petrova is now responsible for renewing {number.group(0)}"
    )
    row = page.locator("tr", has_text=number.group(0))
    expect(row.locator("td").nth(5)).to_have_text("Maria Petrova")
