"""crm_sales: installing the module and what it declares."""

from core.testing import assert_requirements_match_depends, granted_permissions, installed
from crm_sales.plugin import MANIFEST


def test_installing_crm_sales_pulls_in_crm_contacts(crm_app_factory):
    app = crm_app_factory(["crm_sales"])
    assert installed(app) == ["crm_contacts", "crm_sales"]


def test_crm_sales_permissions_are_stored_with_their_default_groups(crm_app_factory):
    app = crm_app_factory(["crm_sales"])
    assert granted_permissions(app, "crm_sales") == {
        "crm_sales.read": ["admin", "back_office", "sales_manager", "sales_rep"],
        "crm_sales.write": ["admin", "back_office", "sales_manager", "sales_rep"],
    }


def test_the_distribution_requires_the_core_and_the_modules_in_depends():
    assert_requirements_match_depends("crm-sales", MANIFEST)
