"""crm_pricing and crm_contracts together: a contract's 5 % discount on a product group changes a
quote through the automatic kind "crm_contracts.conditions", and the client file lists it among
the client's negotiated discounts; terminated, it no longer does either.

Both modules are used only through their APIs: contracts are created and terminated through
/api/v1/contracts, prices asked of /api/v1/pricing/quote, as an integration would.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import time_machine

from core.db import db_session
from core.testing import installed, logged_in, make_user

NOW = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)


def _catalogue(app) -> None:
    from crm_sales.models import Product, ProductGroup

    with app.app_context():
        paper = ProductGroup(code="PAPER", name="Paper")
        a4 = ProductGroup(code="PAPER-A4", name="Paper A4", parent=paper)
        db_session.add_all([
            paper, a4,
            Product(code="PAP-A4", name="Copy paper A4", list_price=Decimal("10.00"), group=a4),
            Product(code="INK-BK", name="Black cartridge", list_price=Decimal("25.00")),
        ])  # fmt: skip
        db_session.commit()


def test_a_contract_discount_changes_the_quote_until_the_contract_is_terminated(crm_app_factory):
    with time_machine.travel(NOW, tick=False):
        app = crm_app_factory(["crm_contacts", "crm_sales", "crm_contracts", "crm_pricing"])
        assert installed(app) == ["crm_contacts", "crm_contracts", "crm_pricing", "crm_sales"]
        make_user(app, "georgi", groups=("sales_manager",))
        _catalogue(app)
        http = logged_in(app, "georgi")
        client = http.post("/api/v1/clients", json={"name": "Bioprom"}).get_json()

        def quote(code: str) -> dict:
            answer = http.post("/api/v1/pricing/quote", json={
                "client_id": client["id"], "product_code": code, "quantity": 10})  # fmt: skip
            assert answer.status_code == 200, answer.get_json()
            return answer.get_json()

        def negotiated() -> str:
            # The client file's "Negotiated discounts": every discount that applies to the client.
            page = http.get(f"/contacts/clients/{client['id']}").get_data(as_text=True)
            start = page.index('data-testid="negotiated"')
            return page[start : page.index("</", page.index(">", start) + 1) + 200]

        assert "No discounts negotiated" in negotiated()
        before = quote("PAP-A4")
        assert before["unit_price"] == "10.00"
        assert [n["kind"] for n in before["not_applied"]] == ["crm_contracts.conditions"]

        created = http.post("/api/v1/contracts", json={
            "client_id": client["id"], "title": "Supply 2026", "signed_on": "2026-11-01",
            "valid_from": "2026-11-01", "valid_to": "2027-10-31"})  # fmt: skip
        assert created.status_code == 201, created.get_json()
        contract = created.get_json()
        condition = http.post(f"/api/v1/contracts/{contract['id']}/conditions", json={
            "kind": "discount", "group_code": "PAPER", "group_name": "Paper",
            "discount_percent": "5"})  # fmt: skip
        assert condition.status_code == 201, condition.get_json()

        during = quote("PAP-A4")  # a product of a subgroup of PAPER
        assert during["unit_price"] == "9.50"
        (step,) = during["adjustments"]
        assert step["kind"] == "crm_contracts.conditions"
        assert contract["number"] in step["reason"] and "5 %" in step["reason"]
        assert quote("INK-BK")["unit_price"] == "25.00"  # not in the group
        shown = negotiated()
        assert "No discounts negotiated" not in shown
        assert f"Contract conditions</strong>: contract {contract['number']}: 5 % on Paper" in shown

        version = http.get(f"/api/v1/contracts/{contract['id']}").get_json()["version"]
        ended = http.post(f"/api/v1/contracts/{contract['id']}/terminate", json={
            "terminated_on": "2026-11-26", "termination_reason": "Client closed the account",
            "version": version})  # fmt: skip
        assert ended.status_code == 200, ended.get_json()

        assert "No discounts negotiated" in negotiated()  # terminated today: nothing applies
        after = quote("PAP-A4")
        assert after["unit_price"] == "10.00"
        assert after["adjustments"] == []
        assert [n["reason"] for n in after["not_applied"]] == [
            "no contract in force sets a condition for this product"
        ]
