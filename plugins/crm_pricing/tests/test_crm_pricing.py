"""crm_pricing: installing the module and what it declares."""

from importlib import metadata

from core.modules import uninstall
from core.testing import granted_permissions, installed, logged_in, make_user
from crm_pricing.plugin import MANIFEST


def test_installing_crm_pricing_pulls_in_crm_sales_and_crm_contacts(crm_app_factory):
    app = crm_app_factory(["crm_pricing"])
    assert installed(app) == ["crm_contacts", "crm_pricing", "crm_sales"]


def test_crm_pricing_permissions_are_stored_with_their_default_groups(crm_app_factory):
    app = crm_app_factory(["crm_pricing"])
    assert granted_permissions(app, "crm_pricing") == {
        "crm_pricing.read": ["admin", "back_office", "sales_manager", "sales_rep"],
        "crm_pricing.write": ["admin", "sales_manager"],
    }


def test_the_distribution_requires_the_core_and_the_modules_in_depends():
    # core.testing.assert_requirements_match_depends allows no third-party requirement; the price
    # list exports need openpyxl (XLSX) and fpdf2 (PDF), so compare the CRM distributions only.
    required = {r.split(";")[0].strip() for r in metadata.requires("crm-pricing") or ()}
    crm = {r for r in required if r.startswith("crm-")}
    assert crm == {"crm-core", *(d.replace("_", "-") for d in MANIFEST.depends)}
    assert {r.split(">")[0] for r in required - crm} == {"openpyxl", "fpdf2"}


def test_the_module_uninstalls_cleanly_and_its_pages_go(crm_app_factory):
    app = crm_app_factory(["crm_pricing"])
    make_user(app, "root", groups=("admin",))
    http = logged_in(app, "root")
    assert http.get("/pricing/rules").status_code == 200
    crm = app.extensions["crm"]
    uninstall(crm.engine, crm.plugins, "crm_pricing")
    assert installed(app) == ["crm_contacts", "crm_sales"]
    assert http.get("/pricing/rules").status_code == 404
