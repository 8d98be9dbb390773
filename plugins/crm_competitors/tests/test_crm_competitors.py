"""crm_competitors: installing the module and what it declares."""

from core.testing import assert_requirements_match_depends, granted_permissions, installed
from crm_competitors.plugin import MANIFEST


def test_installing_crm_competitors_pulls_in_crm_contacts(crm_app_factory):
    app = crm_app_factory(["crm_competitors"])
    assert installed(app) == ["crm_competitors", "crm_contacts"]


def test_crm_competitors_permissions_are_stored_with_their_default_groups(crm_app_factory):
    app = crm_app_factory(["crm_competitors"])
    assert granted_permissions(app, "crm_competitors") == {
        "crm_competitors.read": ["admin", "back_office", "sales_manager", "sales_rep"],
        "crm_competitors.write": ["admin", "sales_manager", "sales_rep"],
        "crm_competitors.configure": ["admin", "sales_manager"],
    }


def test_the_distribution_requires_the_core_and_the_modules_in_depends():
    assert_requirements_match_depends("crm-competitors", MANIFEST)
