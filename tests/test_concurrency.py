"""A request that meets a module change is run once more; one that committed is not; a module
operation that cannot get the module lock gives up with a message and changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from core.concurrency import MODULE_LOCK_KEY
from core.db import db_session
from core.modules import ModuleError, uninstall
from core.permissions import PUBLIC, permission_required
from core.testing import installed


def _add_route(app, rule: str, view) -> None:
    view.crm_permission = PUBLIC
    app.add_url_rule(rule, view.__name__, permission_required(PUBLIC)(view))


def test_a_request_that_meets_a_missing_table_runs_once_more(crm_app_factory):
    app = crm_app_factory()
    calls: list[int] = []

    def flaky():
        calls.append(1)
        if len(calls) == 1:  # the table of a module uninstalled under the request
            db_session.execute(text("SELECT * FROM crm_gone_table"))
        return "answered"

    _add_route(app, "/flaky", flaky)
    response = app.test_client().get("/flaky")
    assert (response.status_code, response.text, len(calls)) == (200, "answered", 2)


def test_a_request_that_committed_is_not_run_again(crm_app_factory):
    app = crm_app_factory()
    calls: list[int] = []

    def half_done():
        calls.append(1)
        db_session.execute(text("SELECT 1"))
        db_session.commit()
        db_session.execute(text("SELECT * FROM crm_gone_table"))
        return "never"

    _add_route(app, "/half-done", half_done)
    response = app.test_client().get("/half-done")
    assert response.status_code == 500 and len(calls) == 1


def test_a_request_that_fails_again_is_a_503(crm_app_factory):
    app = crm_app_factory()

    def broken():
        db_session.execute(text("SELECT * FROM crm_gone_table"))

    _add_route(app, "/broken", broken)
    response = app.test_client().get("/broken")
    assert response.status_code == 503 and response.headers["Retry-After"]


@pytest.mark.slow
def test_a_module_operation_gives_up_while_a_request_holds_on(crm_app_factory):
    """PostgreSQL: a request (here, a connection holding the module lock shared) that does not
    finish within the wait: the uninstall answers "try again" and changes nothing."""
    app = crm_app_factory(["crm_contacts", "crm_sales", "crm_pricing"])
    crm = app.extensions["crm"]
    if crm.engine.dialect.name != "postgresql":
        pytest.skip("the module lock is PostgreSQL's")
    holder = create_engine(crm.engine.url)
    with holder.connect() as connection:
        connection.execute(text(f"SELECT pg_advisory_lock_shared({MODULE_LOCK_KEY})"))
        with pytest.raises(ModuleError, match="try again"):
            uninstall(crm.engine, crm.plugins, "crm_pricing")
    holder.dispose()
    assert "crm_pricing" in installed(app)
