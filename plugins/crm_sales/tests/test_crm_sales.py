"""crm_sales: installing the module and what it declares."""

from importlib import metadata

from core.testing import granted_permissions, installed
from crm_sales.plugin import MANIFEST


def test_installing_crm_sales_pulls_in_crm_contacts(crm_app_factory):
    app = crm_app_factory(["crm_sales"])
    assert installed(app) == ["crm_contacts", "crm_sales"]


def test_crm_sales_permissions_are_stored_with_their_default_groups(crm_app_factory):
    app = crm_app_factory(["crm_sales"])
    assert granted_permissions(app, "crm_sales") == {
        "crm_sales.read": ["admin", "back_office", "sales_manager", "sales_rep"],
        "crm_sales.write": ["admin", "back_office", "sales_manager", "sales_rep"],
        "crm_sales.import": ["admin", "back_office", "sales_manager"],
    }


def test_the_distribution_requires_the_core_and_the_modules_in_depends():
    # core.testing.assert_requirements_match_depends allows no third-party requirement; crm-sales
    # needs openpyxl for XLSX exports, so compare the CRM distributions only.
    required = {r.split(";")[0].strip() for r in metadata.requires("crm-sales") or ()}
    crm = {r for r in required if r.startswith("crm-")}
    assert crm == {"crm-core", *(d.replace("_", "-") for d in MANIFEST.depends)}
    assert {r.split(">")[0] for r in required - crm} == {"openpyxl"}
