"""crm_pricing: installing the module and what it declares."""

from core.modules import uninstall
from core.testing import (
    assert_requirements_match_depends,
    granted_permissions,
    installed,
    logged_in,
    make_user,
)
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
    assert_requirements_match_depends("crm-pricing", MANIFEST)


def test_the_module_uninstalls_cleanly_and_its_pages_go(crm_app_factory):
    app = crm_app_factory(["crm_pricing"])
    make_user(app, "root", groups=("admin",))
    http = logged_in(app, "root")
    assert http.get("/pricing/rules").status_code == 200
    crm = app.extensions["crm"]
    uninstall(crm.engine, crm.plugins, "crm_pricing")
    assert installed(app) == ["crm_contacts", "crm_sales"]
    assert http.get("/pricing/rules").status_code == 404
