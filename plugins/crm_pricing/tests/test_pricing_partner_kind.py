"""A module outside the bundled set adds rule kinds through ``crm_pricing_rules`` alone, and its
rules take part in quotes with their reasons: a configured kind validated by its own schema, and
an automatic kind that applies without any rule."""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

import pytest
import time_machine
from pricing_helpers import NOW

from core.plugins import ENTRY_POINT_GROUP, discover
from core.testing import installed, logged_in, make_user

FOLDER = Path(__file__).parent / "fixture_plugins" / "crm_acme_pricing"


@pytest.fixture
def acme_plugins(monkeypatch):
    """The real plugins and the fixture, whose folder is on sys.path for this test only."""
    real = list(metadata.entry_points(group=ENTRY_POINT_GROUP))
    monkeypatch.syspath_prepend(str(FOLDER))
    extra = [ep for dist in metadata.distributions(path=[str(FOLDER)])
             for ep in dist.entry_points if ep.group == ENTRY_POINT_GROUP]  # fmt: skip
    yield discover(entry_points=[*real, *extra])
    for name in list(sys.modules):
        if name.split(".")[0] == "crm_acme_pricing":
            del sys.modules[name]


def test_a_partner_kind_takes_part_in_quotes(crm_app_factory, acme_plugins):
    with time_machine.travel(NOW, tick=False):
        app = crm_app_factory(["crm_pricing", "crm_acme_pricing"], plugins=acme_plugins)
        assert "crm_acme_pricing" in installed(app)
        make_user(app, "georgi", groups=("sales_manager",))
        http = logged_in(app, "georgi")
        kinds = {k["name"]: k for k in http.get("/api/v1/pricing/kinds").get_json()["items"]}
        assert kinds["crm_acme_pricing.full_packs"]["module"] == "crm_acme_pricing"
        assert kinds["crm_acme_pricing.launch_week"]["automatic"] is True

        rule = {"name": "Packs of 12", "kind": "crm_acme_pricing.full_packs",
                "params": {"pack": 12, "percent": 3}}  # fmt: skip
        bad = http.post("/api/v1/pricing/rules", json={**rule, "params": {"pack": 1}})
        assert set(bad.get_json()["errors"]["params"]) == {"pack", "percent"}
        assert http.post("/api/v1/pricing/rules", json=rule).status_code == 201

        client = http.post("/api/v1/clients", json={"name": "Acme client"}).get_json()
        product = _product(app)
        line = {"client_id": client["id"], "product_id": product}
        quote = http.post("/api/v1/pricing/quote", json={**line, "quantity": 24}).get_json()
        # 10.00 × 0.99 (launch week, automatic at its kind's order 90) × 0.97 (packs, priority
        # 100) = 9.603
        assert quote["unit_price"] == "9.60"
        assert [(a["rule"], a["reason"]) for a in quote["adjustments"]] == [
            ("Launch week (Acme)", "launch week: 1 %"),
            ("Packs of 12", "2 whole packs of 12: 3 %"),
        ]
        odd = http.post("/api/v1/pricing/quote", json={**line, "quantity": 10}).get_json()
        reasons = {(n["rule"], n["kind"]): n["reason"] for n in odd["not_applied"]}
        assert reasons[("Packs of 12", "crm_acme_pricing.full_packs")] == (
            "10 is not whole packs of 12: 2 more would be"
        )


def test_a_partner_kind_gets_a_generated_form(crm_app_factory, acme_plugins):
    app = crm_app_factory(["crm_pricing", "crm_acme_pricing"], plugins=acme_plugins)
    make_user(app, "georgi", groups=("sales_manager",))
    http = logged_in(app, "georgi")
    page = http.get("/pricing/rules/new").text
    prefix = "params[crm_acme_pricing.bundles]."
    section = page[page.index('data-testid="params-crm_acme_pricing.bundles"') :]
    section = section[: section.index("</fieldset>\n    \n")]
    # a table with a row to fill in and a template for more rows, typed inputs, a select, a picker
    assert f'name="{prefix}lines.0.size"' in section and "data-row-add" in section
    assert f'name="{prefix}lines.__index__.percent"' in section  # the <template> row
    assert '<option value="blue">Blue boxes</option>' in section
    assert f'name="{prefix}until" value="" autocomplete="off"\n         type="date"' in section
    assert 'data-picker="crm_sales_product_group"' in section and "Offer ends" in section
    assert "textarea" not in section

    with app.app_context():
        from core.db import db_session
        from crm_sales.models import ProductGroup

        group = ProductGroup(code="G", name="Gadgets")
        db_session.add(group)
        db_session.commit()
        group_id = group.id
    form = {"name": "Bundles", "kind": "crm_acme_pricing.bundles", "mode": "stack",
            "priority": "100", "active": "y", f"{prefix}lines.0.size": "3",
            f"{prefix}lines.0.percent": "12", f"{prefix}lines.1.size": "",
            f"{prefix}lines.1.percent": "", f"{prefix}colour": "blue",
            f"{prefix}until": "2027-02-30", f"{prefix}group_id": str(group_id)}  # fmt: skip
    wrong = http.post("/pricing/rules/new", data=form)
    assert wrong.status_code == 400
    assert "Lines, row 1, percent: Must be greater than or equal to 0" in wrong.text
    assert "Offer ends: Not a valid date." in wrong.text
    assert f'data-error="{prefix}lines.0.percent"' in wrong.text
    # what was typed is still there, the picker shows the group's name
    assert f'name="{prefix}lines.0.size" value="3"' in wrong.text
    assert f'<option value="{group_id}" selected>Gadgets (G)</option>' in wrong.text
    form.update({f"{prefix}lines.0.percent": "2,5", f"{prefix}until": "2027-02-28"})
    assert http.post("/pricing/rules/new", data=form).status_code == 302
    rules = http.get("/api/v1/pricing/rules").get_json()["items"]
    assert rules[0]["params"] == {
        "lines": [{"size": 3, "percent": "2.5"}],
        "colour": "blue",
        "until": "2027-02-28",
        "group_id": group_id,
    }


def _product(app) -> int:
    from decimal import Decimal

    from core.db import db_session
    from crm_sales.models import Product

    with app.app_context():
        product = Product(code="ACME-1", name="Acme widget", list_price=Decimal("10.00"))
        db_session.add(product)
        db_session.commit()
        return product.id
