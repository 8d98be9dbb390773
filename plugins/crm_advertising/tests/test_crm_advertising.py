"""crm_advertising: installing the module and what it declares."""

from core.testing import assert_requirements_match_depends, granted_permissions, installed
from crm_advertising.plugin import MANIFEST


def test_installing_crm_advertising_pulls_in_crm_contacts(crm_app_factory):
    app = crm_app_factory(["crm_advertising"])
    assert installed(app) == ["crm_advertising", "crm_contacts"]


def test_crm_advertising_permissions_are_stored_with_their_default_groups(crm_app_factory):
    app = crm_app_factory(["crm_advertising"])
    assert granted_permissions(app, "crm_advertising") == {
        "crm_advertising.configure": ["admin", "sales_manager"],
        "crm_advertising.hand_out": ["admin", "sales_manager", "sales_rep"],
        "crm_advertising.manage_stock": ["admin", "back_office", "sales_manager"],
        "crm_advertising.read": ["admin", "back_office", "sales_manager", "sales_rep"],
    }


def test_the_distribution_requires_the_core_and_the_modules_in_depends():
    assert_requirements_match_depends("crm-advertising", MANIFEST)
