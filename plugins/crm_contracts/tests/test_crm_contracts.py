"""crm_contracts: installing the module and what it declares."""

from core.testing import assert_requirements_match_depends, granted_permissions, installed
from crm_contracts.plugin import MANIFEST


def test_installing_crm_contracts_pulls_in_crm_contacts(crm_app_factory):
    app = crm_app_factory(["crm_contracts"])
    assert installed(app) == ["crm_contacts", "crm_contracts"]


def test_crm_contracts_permissions_are_stored_with_their_default_groups(crm_app_factory):
    app = crm_app_factory(["crm_contracts"])
    assert granted_permissions(app, "crm_contracts") == {
        "crm_contracts.read": ["admin", "back_office", "sales_manager", "sales_rep"],
        "crm_contracts.write": ["admin", "back_office", "sales_manager"],
        "crm_contracts.renew": ["admin", "back_office", "sales_manager", "sales_rep"],
        "crm_contracts.configure": ["admin", "sales_manager"],
    }


def test_the_distribution_requires_the_core_and_the_modules_in_depends():
    assert_requirements_match_depends("crm-contracts", MANIFEST)
