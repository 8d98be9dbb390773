"""Rule 7 of the design, checked for every route of an installation with every module: each route
declares its permission, anonymous users reach only the login page, static files and the health
check, and a user without permissions is refused everything but the pages of any logged-in user.

The public and the "any logged-in user" routes are explicit lists here: a new one is a decision
made in this file, never an accident of a forgotten decorator.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.routing import Rule

from core.permissions import AUTHENTICATED, PUBLIC, required_permission
from core.state import current_state
from core.testing import logged_in, make_user
from tests.helpers import BUNDLED_MODULES

PUBLIC_ENDPOINTS = {
    "auth.login",
    "core.health",
    "core.favicon",
    # A user's iCalendar feed: phone calendar apps subscribe to a URL and cannot log in, so the
    # unguessable secret in the URL is the credential (regenerating it revokes the old URL).
    "crm_contacts.calendar_feed",
}

AUTHENTICATED_ENDPOINTS = {
    "core.home",
    "core.search",
    "auth.logout",
    "core_api.openapi",
    # Pickers: the gate lets any user in, the view asks for the looked-up model's read
    # permission (403 otherwise, tested in test_lookup.py); users are any user's to pick.
    "core_lookup.lookup",
    "core_admin.account_password",
    "core_tokens.tokens",
    "core_tokens.token_create",
    "core_tokens.token_revoke",
    # Every user's own notifications.
    "core_notifications.notification_list",
    "core_notifications.notification_open",
    "core_notifications.notification_read_all",
    "core_notifications_api.api_notification_list",
    "core_notifications_api.api_notification_read",
    # Every user's own background jobs (others' answer 404; core.jobs holders see all).
    "core_jobs.job_list",
    "core_jobs.job_detail",
    "core_jobs.job_cancel",
    "core_jobs.job_result",
    "core_jobs_api.api_job_list",
    "core_jobs_api.api_job",
    # Attachments check the record's module permission and record rules themselves.
    "core_attachments.download",
    "core_attachments.upload",
    "core_attachments.remove",
}

_ARGUMENT = re.compile(
    r"<(?:(?P<converter>[a-zA-Z_][a-zA-Z0-9_]*)(?:\((?P<args>[^)]*)\))?:)?"
    r"(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)>"
)


def _value(converter: str | None, args: str | None) -> str:
    if converter == "int":
        return "1"
    if converter == "float":
        return "1.0"
    if converter == "uuid":
        return "00000000-0000-0000-0000-000000000001"
    if converter == "any" and args:
        return args.split(",")[0].strip().strip("'\"")
    return "x"  # default, string, path


def path_of(rule: Rule) -> str:
    return _ARGUMENT.sub(lambda m: _value(m["converter"], m["args"]), rule.rule)


def is_static(endpoint: str) -> bool:
    return endpoint == "static" or endpoint.endswith(".static")


def declared(app: Flask, endpoint: str) -> str | None:
    """What the request gate reads: the view's own declaration, else its blueprints', innermost
    first."""
    needed = required_permission(app.view_functions[endpoint], None)
    parts = endpoint.split(".")[:-1]
    for depth in range(len(parts), 0, -1):
        if needed is not None:
            break
        needed = required_permission(None, app.blueprints.get(".".join(parts[:depth])))
    return needed


def calls(app: Flask) -> Iterator[tuple[Rule, str, str]]:
    """Every (rule, method, path) of the URL map."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule, method, path_of(rule)


def send(client, method: str, path: str):
    body = {"json": {}} if path.startswith("/api/") and method != "GET" else {}
    return client.open(path, method=method, **body)


@pytest.fixture(scope="module")
def everything(crm_plugins) -> list[str]:
    healthy = sorted(name for name, info in crm_plugins.items() if not info.broken)
    missing = set(BUNDLED_MODULES) - set(healthy)
    assert not missing, f"bundled modules not discovered or broken: {missing}"
    return healthy


@pytest.fixture
def app(crm_app_factory, everything) -> Flask:
    app = crm_app_factory(everything)
    with app.test_request_context():
        state = current_state()
        assert [m for m in everything if not state.is_installed(m)] == []
    return app


def test_every_route_declares_a_permission(app):
    undeclared = [
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if not is_static(rule.endpoint) and declared(app, rule.endpoint) is None
    ]
    assert undeclared == [], f"routes without @permission_required: {undeclared}"


def test_the_public_and_any_user_routes_are_the_listed_ones(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    public = {e for e in endpoints if not is_static(e) and declared(app, e) == PUBLIC}
    assert public == PUBLIC_ENDPOINTS
    assert {e for e in endpoints if declared(app, e) == AUTHENTICATED} == AUTHENTICATED_ENDPOINTS
    # Static files are public by the gate's own rule; nothing else may pass as one.
    assert {e for e in endpoints if is_static(e)} <= {"static"} | {
        f"{name}.static" for name in app.blueprints
    }


def test_anonymous_users_are_sent_to_log_in(app):
    client = app.test_client()
    checked = 0
    for rule, method, path in calls(app):
        if is_static(rule.endpoint) or rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        response = send(client, method, path)
        where = f"{method} {path} ({rule.endpoint})"
        if path.startswith("/api/"):
            assert response.status_code == 401, where
            assert response.get_json() == {"errors": {"_schema": ["Authentication required."]}}
        else:
            assert response.status_code == 302, f"{where}: {response.status_code}"
            assert response.headers["Location"].startswith("/login"), where
        checked += 1
    assert checked > 30


def test_a_user_without_permissions_is_refused_all_but_the_any_user_routes(app):
    make_user(app, "nobody", groups=())
    client = logged_in(app, "nobody")
    refused = reached = 0
    for rule, method, path in calls(app):
        if is_static(rule.endpoint) or rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        where = f"{method} {path} ({rule.endpoint})"
        if rule.endpoint in AUTHENTICATED_ENDPOINTS:
            if method != "GET":
                continue  # logging out or creating a token would change the walk itself
            response = send(client, method, path)
            assert response.status_code not in (401, 403) and response.status_code < 500, where
            reached += 1
            continue
        response = send(client, method, path)
        assert response.status_code == 403, f"{where}: {response.status_code}"
        if path.startswith("/api/"):
            assert set(response.get_json()["errors"]) == {"_schema"}
        refused += 1
    assert refused > 20 and reached >= 5
    assert client.get("/").status_code == 200  # still logged in after the walk


def test_routes_of_uninstalled_modules_answer_404_even_anonymously(crm_app_factory):
    app = crm_app_factory()  # the core alone; every discovered plugin's routes are registered
    owners = app.extensions["crm"].runtime.blueprint_owner
    client = app.test_client()
    checked = 0
    for rule, method, path in calls(app):
        owner = owners.get(rule.endpoint.split(".")[0], "core")
        if owner == "core":
            continue
        response = send(client, method, path)
        assert response.status_code == 404, f"{method} {path} ({rule.endpoint})"
        if path.startswith("/api/"):
            assert "errors" in response.get_json()
        checked += 1
    assert checked >= len(BUNDLED_MODULES)
