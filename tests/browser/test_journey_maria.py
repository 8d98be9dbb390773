"""Maria's day (JOURNEYS.md, sales representative), clicked through in Chromium as maria.

Step 2 includes the competitors present at the client (crm_competitors) and the material left
there (crm_advertising); step 5 hands out display stands and catalogues and sees her stock go
down; then she sorts her client list and adds the turnover column, which is still there when she
logs in again.
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
    # This year against last, or, for a client of the demo who bought nothing, that it did not.
    expect(page.locator("[data-section='crm_sales.turnover']")).to_contain_text(
        re.compile(r"This year so far|No sales since 1 January last year")
    )
    # Which competitors are present there, and which material was left last time.
    expect(page.locator("[data-section='crm_competitors.competitors'] h2")).to_have_text(
        re.compile("Competitors")
    )
    advertising = page.locator("[data-section='crm_advertising']")
    expect(advertising.locator("h2")).to_have_text(re.compile("Advertising material"))
    expect(advertising.get_by_test_id("advertising-cost")).to_be_visible()
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

    # 5. Hands over two display stands and 50 catalogues from her own stock: recorded, and the
    # stock she holds goes down by as much.
    page.goto(client_file)
    page.locator("[data-section='crm_advertising']").get_by_test_id("hand-out").click()
    expect(page.get_by_role("heading", name=re.compile("Hand out material to"))).to_be_visible()
    before = _held(page)
    stand = _enough(before, re.compile("display|stand", re.I), 2)
    catalogue = _enough(before, re.compile("catalogue", re.I), 50)
    page.get_by_label("Material, line 1").select_option(label=before[stand][0])
    page.get_by_label("Quantity, line 1").fill("2")
    page.get_by_label("Material, line 2").select_option(label=before[catalogue][0])
    page.get_by_label("Quantity, line 2").fill("50")
    page.get_by_role("button", name="Hand out", exact=True).click()
    expect(page).to_have_url(re.compile(r"/contacts/clients/\d+#section-crm_advertising$"))
    expect(page.get_by_role("alert").first).to_contain_text(f"2 pcs of {stand}")
    at_client = page.locator("[data-section='crm_advertising']").get_by_test_id("at-client")
    expect(at_client).to_contain_text(stand)
    page.locator("[data-section='crm_advertising']").get_by_test_id("hand-out").click()
    after = _held(page)
    assert after[stand][1] == before[stand][1] - 2
    assert after[catalogue][1] == before[catalogue][1] - 50

    # 6. Her client list, her way: sorted by a header, with this year's turnover added.
    page.goto(live_server("/"))
    page.get_by_test_id("main-menu").get_by_role("button", name="Clients").or_(
        page.get_by_test_id("main-menu").get_by_role("link", name="Clients", exact=True)
    ).first.click()
    page.get_by_role("link", name="All clients", exact=True).first.click()
    clients = page.get_by_test_id("clients")
    page.locator("th[data-col=name] a").click()  # sorted A-Z already: now Z-A
    expect(page.locator("th[data-col=name]")).to_have_attribute("aria-sort", "descending")
    names = clients.locator("tbody tr td:first-child").all_inner_texts()
    assert names == sorted(names, key=str.casefold, reverse=True), names
    page.get_by_test_id("column-chooser").locator("summary").click()
    page.get_by_label("Turnover this year").check()
    page.get_by_role("button", name="Save columns").click()
    turnover_header = page.locator("th[data-col='crm_sales.turnover_year']")
    expect(turnover_header).to_contain_text("Turnover this year")
    # The order she chose is kept when the columns change.
    expect(page.locator("th[data-col=name]")).to_have_attribute("aria-sort", "descending")
    turnover_header.get_by_role("link").click()
    turnover_header.get_by_role("link").click()  # biggest first
    expect(turnover_header).to_have_attribute("aria-sort", "descending")
    figures = _amounts(clients.locator("td[data-col='crm_sales.turnover_year']").all_inner_texts())
    assert figures and figures == sorted(figures, reverse=True), figures
    # Logged out and in again: still her columns.
    page.get_by_role("button", name="Log out").click()
    log_in_through_form(page, live_server, "maria")
    page.goto(live_server("/contacts/clients"))
    expect(page.locator("th[data-col='crm_sales.turnover_year']")).to_be_visible()


def _held(page) -> dict[str, tuple[str, int]]:
    """The hand-out form's materials: {name: (option label, quantity held at the source)}."""
    held = {}
    for label in page.get_by_label("Material, line 1").locator("option").all_inner_texts():
        found = re.fullmatch(r"(.+) — (\d+) \w+ here", label.strip())
        if found:
            held[found.group(1)] = (label.strip(), int(found.group(2)))
    return held


def _enough(held: dict[str, tuple[str, int]], kind: re.Pattern, quantity: int) -> str:
    names = [name for name, (_, n) in held.items() if kind.search(name) and n >= quantity]
    assert names, f"the demo gives Maria no {kind.pattern} with {quantity} at hand: {held}"
    return names[0]


def _amounts(cells: list[str]) -> list[float]:
    """The turnover cells that have a figure ("—": no sales this year, listed last)."""
    return [float(c.replace(",", "")) for c in cells if c.strip() not in ("", "—")]
