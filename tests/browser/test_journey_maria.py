"""Maria's day (JOURNEYS.md, sales representative), clicked through in Chromium as maria.

Step 2's competitors present at the client and brochures left last time, and step 5 (hand-outs of
display stands and catalogues, stock going down) belong to crm_competitors and crm_advertising:
they are added here with those modules.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from playwright.sync_api import expect

from tests.browser.conftest import log_in_through_form, pick


def test_maria_day(browsing, live_server):
    page = browsing.anonymous()

    # 1. 08:30 — logs in; home: today's agenda, open tasks overdue first, notifications.
    log_in_through_form(page, live_server, "maria")
    expect(page.get_by_role("heading", name="My agenda today")).to_be_visible()
    expect(page.get_by_text("Notifications").first).to_be_visible()
    expect(page.get_by_role("heading", name="My open tasks")).to_be_visible()

    # 2. The first visit: one click to the client file, and the file in one screen. The demo's
    # visits of today are at fixed hours: late in the day they are past, and the full agenda
    # (today and after) is where the next one is.
    if not page.get_by_test_id("home-agenda").count():
        page.get_by_role("link", name="Full agenda").click()
    client_link = page.get_by_test_id("client-link").first
    client_name = client_link.inner_text()
    client_link.click()
    expect(page.get_by_role("heading", name=client_name).first).to_be_visible()
    header = page.get_by_test_id("client-header")
    expect(header.get_by_test_id("payment-term")).to_have_text(re.compile(r"\d+ days"))
    expect(header.get_by_test_id("primary-contact")).to_contain_text("+359")
    for section in (
        "Addresses, phones and emails",
        "Contact persons",
        "Preferences",
        "Contracts and conditions",
        "Prices and discounts",
        "Trade turnover",
        "Latest contacts",
        "Open tasks and commitments",
    ):
        expect(page.locator("section h2", has_text=section).first).to_be_visible()
    expect(page.locator("[data-section='crm_sales.turnover']")).to_contain_text("This year so far")
    client_file = page.url

    # 3. After the visit, from the same screen: logs it ...
    page.get_by_role("link", name="Log a contact").first.click()
    page.get_by_label("Type").select_option(label="Visit")
    page.get_by_label("Duration (minutes)").fill("45")
    page.get_by_label("Subject").fill("Visit: the new range")
    page.get_by_label("Notes").fill("Showed the new range; interested in the premium line.")
    page.get_by_label("Outcome").fill("Wants an offer by Friday.")
    page.get_by_role("button", name="Log contact", exact=True).click()
    expect(page).to_have_url(client_file)
    latest = page.locator("[data-section='crm_contacts.contacts']")
    expect(latest).to_contain_text("Visit: the new range")
    expect(latest).to_contain_text("45 min")

    # ... creates a task due Friday, assigned to herself ...
    friday = date.today() + timedelta(days=(4 - date.today().weekday()) % 7 or 7)
    page.locator("[data-section='crm_tasks.commitments']").get_by_role("link").filter(
        has_text=re.compile("new|add", re.I)
    ).first.click()
    page.get_by_label("Title *").fill("Send an offer for the new range")
    page.get_by_label("Commitment type *").select_option(label="Provide an offer")
    page.get_by_label("Due").fill(friday.isoformat())
    # Assigned to herself unless she chooses otherwise.
    expect(page.locator("select[name=assigned_to_id] option:checked")).to_have_text(
        re.compile("Maria Petrova")
    )
    page.get_by_role("button", name="Create the task").click()
    expect(page.get_by_text("Send an offer for the new range").first).to_be_visible()
    page.goto(client_file)
    expect(page.locator("[data-section='crm_tasks.commitments']")).to_contain_text(
        "Send an offer for the new range"
    )

    # ... and schedules the next visit in a month.
    next_visit = date.today() + timedelta(days=30)
    page.get_by_role("link", name="Schedule", exact=True).first.click()
    page.get_by_label("Type").select_option(label="Visit")
    page.get_by_label("Date and time (UTC)").fill(f"{next_visit.isoformat()}T10:00")
    page.get_by_label("Subject").fill("Follow-up visit")
    page.get_by_role("button", name="Schedule", exact=True).click()
    expect(page).to_have_url(client_file)
    expect(page.locator("[data-section='crm_contacts.contacts']")).to_contain_text(
        "Follow-up visit"
    )

    # 4. A price on the spot: the simulator opened from the client file is prefilled with her.
    page.get_by_role("link", name="Quote simulator").click()
    expect(page.get_by_test_id("simulator-form")).to_contain_text(client_name)
    pick(page, "Product", "Drill")
    page.get_by_label("Quantity").fill("500")
    page.get_by_label("Payment in (days)").fill("10")
    page.get_by_role("button", name="Price").click()
    quote = page.get_by_test_id("quote")
    expect(quote).to_contain_text("per unit")
    expect(quote).to_contain_text("× 500")
    expect(quote).to_contain_text("Payment in 10 days")

    # ... and exports the client's personal price list as a PDF.
    page.goto(client_file)
    with page.expect_download() as download:
        page.get_by_role("link", name="Price list (PDF)").click()
    assert download.value.suggested_filename.endswith(".pdf")
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
