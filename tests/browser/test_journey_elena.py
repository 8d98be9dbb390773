"""Elena's day (JOURNEYS.md, administrator), clicked through in Chromium as elena."""

from __future__ import annotations

import re

from playwright.sync_api import expect

# Rows without a VAT number are matched by name when imported again.
CLIENTS_WITH_AN_ERROR = b"""name,vat_number,city
Browser Test Foods,,Sofia
Browser Test Trade,not a vat,Plovdiv
"""
CLIENTS_FIXED = b"""name,vat_number,city
Browser Test Foods,,Sofia
Browser Test Trade,,Plovdiv
"""


def upload(page, name: str, content: bytes) -> None:
    page.goto("/contacts/import")
    page.get_by_label("CSV file").set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": content}
    )
    page.get_by_role("button", name="Check the file").click()


def test_elena_day(browsing):
    page = browsing.as_role("admin")
    page.goto("/")

    # 1. Only the modules the company needs: what uninstalling advertising would remove, first.
    page.goto("/apps")
    row = page.locator("tr", has_text="crm_advertising")
    row.get_by_role("link", name=re.compile("Uninstall")).click()
    expect(page.get_by_role("heading", name=re.compile("Uninstall"))).to_be_visible()
    expect(page.get_by_test_id("impact")).to_be_visible()
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(re.compile(r"/apps$"))

    # 2. A new user in a group; representatives see only their own clients.
    page.goto("/settings/users/new")
    page.get_by_label("Login").fill("ivo")
    page.get_by_label("Name").fill("Ivo Stanev")
    page.get_by_label(re.compile("Sales representative")).check()
    page.get_by_label("Initial password", exact=True).fill("a long password 123")
    page.get_by_label("Initial password again").fill("a long password 123")
    page.get_by_role("button", name=re.compile("Create|Save")).click()
    expect(page.get_by_text("Ivo Stanev").first).to_be_visible()
    page.goto("/settings/record-rules")
    expect(page.locator("main")).to_contain_text(re.compile("own clients|responsible", re.I))

    # 3. An import with a bad row: nothing written, the row named; fixed, then re-imported.
    upload(page, "clients.csv", CLIENTS_WITH_AN_ERROR)
    errors = page.get_by_test_id("errors")
    expect(errors).to_contain_text("row 3")
    upload(page, "clients.csv", CLIENTS_FIXED)
    expect(page.get_by_test_id("counts").locator("[data-count=create]")).to_have_text("2")
    page.get_by_test_id("confirm-form").get_by_role("button").first.click()
    # The import runs as a background job: its page shows the progress, then the way to the result.
    page.get_by_role("link", name="Open the result").click()
    expect(page.get_by_test_id("result")).to_be_visible()
    # The same file again: matched by VAT number, nothing duplicated.
    upload(page, "clients.csv", CLIENTS_FIXED)
    expect(page.get_by_test_id("counts").locator("[data-count=create]")).to_have_text("0")
    expect(page.get_by_test_id("counts").locator("[data-count=unchanged]")).to_have_text("2")
