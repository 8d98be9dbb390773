"""crm_sales: installing the module and what it declares."""

from core.state import current_state
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
        "crm_sales.import": ["admin", "back_office", "sales_manager"],
    }


def test_the_distribution_requires_the_core_and_the_modules_in_depends():
    assert_requirements_match_depends("crm-sales", MANIFEST)


def test_reports_name_fields_of_registered_models_and_menus_follow_permissions(crm_app_factory):
    from core.testing import logged_in, make_user

    app = crm_app_factory(["crm_sales"])
    with app.test_request_context():
        state = current_state()
        reports = [r for r in state.reports if r.module == "crm_sales"]
        assert {r.title for r in reports} == {
            "Turnover by client", "Turnover by product group", "Turnover by representative",
            "Turnover by month", "Turnover by customer group and quarter",
            "Turnover by representative and month",
            "Turnover by product group, this year against last",
        }  # fmt: skip
        for report in reports:
            if report.spec is not None:
                continue  # checked against the registry when the state was built
            fields = {f.name for f in state.models.get(report.model).fields}
            used = set(report.columns) | set(report.filters) | set(report.group_by)
            assert used | set(report.aggregates) <= fields, report.id
    make_user(app, "maria", groups=("sales_rep",))
    make_user(app, "vera", groups=("back_office",))
    maria = logged_in(app, "maria").get("/sales/documents").text
    assert 'data-menu-id="crm_sales.products"' in maria
    assert 'data-menu-id="crm_sales.import"' not in maria
    assert 'data-menu-id="crm_sales.import"' in logged_in(app, "vera").get("/sales/documents").text
