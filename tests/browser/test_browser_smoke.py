"""The browser fixtures themselves: every demo role logs in and sees its home page."""

import pytest

from tests.browser.conftest import ROLES, log_in_through_form


def test_login_form_leads_home(browsing, live_server):
    page = browsing.anonymous()
    log_in_through_form(page, live_server, "maria")
    assert page.get_by_text("Maria Petrova").first.is_visible()


@pytest.mark.parametrize("role", list(ROLES))
def test_each_role_has_a_home(browsing, role):
    page = browsing.as_role(role)
    response = page.goto("/")
    assert response.status == 200
    assert page.get_by_test_id("main-menu").is_visible()
