"""crm_reports: installing the module and what it declares."""

from core.testing import assert_requirements_match_depends, granted_permissions, installed
from crm_reports.plugin import MANIFEST


def test_installing_crm_reports_installs_it_alone_as_it_depends_on_nothing(crm_app_factory):
    app = crm_app_factory(["crm_reports"])
    assert installed(app) == ["crm_reports"]


def test_crm_reports_permissions_are_stored_with_their_default_groups(crm_app_factory):
    app = crm_app_factory(["crm_reports"])
    assert granted_permissions(app, "crm_reports") == {
        "crm_reports.read": ["admin", "back_office", "sales_manager", "sales_rep"],
        "crm_reports.write": ["admin", "sales_manager"],
    }


def test_the_distribution_requires_the_core_and_the_modules_in_depends():
    assert_requirements_match_depends("crm-reports", MANIFEST)
