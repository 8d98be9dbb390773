"""The security baseline: escaping, CSRF, API tokens without CSRF or cookies, security headers,
cookie flags, templates without inline code, and error pages that give nothing away."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from flask import Blueprint, abort

from core.db import db_session
from core.permissions import AUTHENTICATED, PUBLIC, permission_required
from core.testing import TEST_PASSWORD, logged_in, make_user
from core.tokens import issue_token

ROOT = Path(__file__).resolve().parents[1]
XSS = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
CLIENTS = "/api/v1/clients"


def csrf_token(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the page has no CSRF token field"
    return match.group(1)


def log_in_with_csrf(client, login: str, remember: bool = False):
    token = csrf_token(client.get("/login").text)
    data = {"login": login, "password": TEST_PASSWORD, "csrf_token": token}
    if remember:
        data["remember"] = "1"
    response = client.post("/login", data=data)
    assert response.status_code == 302, response.status_code
    return response


@pytest.fixture
def csrf_app(crm_app_factory):
    app = crm_app_factory(["crm_contacts"], config={"WTF_CSRF_ENABLED": True})
    make_user(app, "georgi", groups=("sales_manager",))
    make_user(app, "root", groups=("admin",))
    return app


# --- escaping ----------------------------------------------------------------------------------


def test_stored_markup_is_escaped_everywhere_it_shows(crm_app_factory):
    app = crm_app_factory(["crm_contacts"])
    make_user(app, "georgi", groups=("sales_manager",))
    client = logged_in(app, "georgi")
    created = client.post(CLIENTS, json={"name": XSS, "addresses": [{"city": "Sofia"}]})
    assert created.status_code == 201
    client_id = created.get_json()["id"]
    pages = [
        client.get("/contacts/clients"),
        client.get(f"/contacts/clients/{client_id}"),
        client.get("/search?q=alert"),
        client.get("/search", query_string={"q": XSS}),  # the query is echoed back too
        client.get("/contacts/clients", query_string={"q": XSS}),
    ]
    for page in pages:
        assert page.status_code == 200
        assert XSS not in page.text
        assert ESCAPED in page.text
    # The JSON API returns the data as data: JSON, never HTML.
    body = client.get(f"{CLIENTS}/{client_id}")
    assert body.mimetype == "application/json" and body.get_json()["name"] == XSS


# --- CSRF --------------------------------------------------------------------------------------


def test_login_needs_the_csrf_token(csrf_app):
    client = csrf_app.test_client()
    refused = client.post("/login", data={"login": "georgi", "password": TEST_PASSWORD})
    assert refused.status_code == 400
    assert "CSRF" in refused.text and "Traceback" not in refused.text
    log_in_with_csrf(client, "georgi")
    assert client.get("/").status_code == 200


def test_a_form_post_without_the_token_is_refused(csrf_app):
    client = csrf_app.test_client()
    log_in_with_csrf(client, "georgi")
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200  # still logged in: nothing happened
    token = csrf_token(client.get("/").text)
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 400
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302  # logged out


def test_module_install_needs_the_csrf_token(crm_app_factory):
    app = crm_app_factory(config={"WTF_CSRF_ENABLED": True})
    make_user(app, "root", groups=("admin",))
    client = app.test_client()
    log_in_with_csrf(client, "root")
    assert client.post("/apps/crm_contacts/install").status_code == 400
    apps = client.get("/apps").text
    assert 'data-module="crm_contacts"' in apps and "Installed: crm_contacts" not in apps
    assert client.get("/contacts/clients").status_code == 404  # not installed
    done = client.post("/apps/crm_contacts/install", data={"csrf_token": csrf_token(apps)})
    assert done.status_code == 302
    assert "Installed: crm_contacts" in client.get("/apps").text


def test_the_json_api_with_a_session_needs_the_csrf_header(csrf_app):
    client = csrf_app.test_client()
    log_in_with_csrf(client, "georgi")
    refused = client.post(CLIENTS, json={"name": "Bioprom"})
    assert refused.status_code == 400
    assert list(refused.get_json()["errors"]) == ["_schema"]
    assert client.get(CLIENTS).get_json()["meta"]["total"] == 0
    token = csrf_token(client.get("/").text)
    created = client.post(CLIENTS, json={"name": "Bioprom"}, headers={"X-CSRFToken": token})
    assert created.status_code == 201


def test_an_api_token_needs_no_csrf_and_gets_no_cookie(csrf_app):
    with csrf_app.app_context():
        from sqlalchemy import select

        from core.models import User

        georgi = db_session.scalar(select(User).where(User.login == "georgi"))
        record, token = issue_token(db_session, georgi, "integration")
        db_session.commit()
        token_id = record.id
    bearer = {"Authorization": f"Bearer {token}"}
    api = csrf_app.test_client()
    created = api.post(CLIENTS, json={"name": "Agrotech"}, headers=bearer)
    assert created.status_code == 201, created.get_json()
    assert "Set-Cookie" not in created.headers
    listed = api.get(CLIENTS, headers=bearer)
    assert listed.status_code == 200 and listed.get_json()["meta"]["total"] == 1
    assert "Set-Cookie" not in listed.headers
    assert api.get_cookie("session") is None

    browser = csrf_app.test_client()
    log_in_with_csrf(browser, "georgi")
    page = browser.get(f"/account/tokens/{token_id}/revoke").text
    revoked = browser.post(
        f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf_token(page)}
    )
    assert revoked.status_code == 302
    refused = api.get(CLIENTS, headers=bearer)
    assert refused.status_code == 401 and list(refused.get_json()["errors"]) == ["_schema"]
    assert api.post(CLIENTS, json={"name": "Nova"}, headers=bearer).status_code == 401


def test_tokens_are_created_and_revoked_with_the_csrf_token_only(csrf_app):
    client = csrf_app.test_client()
    log_in_with_csrf(client, "georgi")
    assert client.post("/account/tokens", data={"name": "x"}).status_code == 400
    page = client.get("/account/tokens").text
    created = client.post("/account/tokens", data={"name": "x", "csrf_token": csrf_token(page)})
    assert created.status_code == 200 and 'data-testid="token"' in created.text


# --- headers and cookies -----------------------------------------------------------------------


def _directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            parsed[words[0]] = words[1:]
    return parsed


def test_security_headers_on_pages_api_and_errors(csrf_app):
    client = csrf_app.test_client()
    for response in (
        client.get("/login"),
        client.get("/health"),
        client.get("/no-such-page"),
        client.get(CLIENTS),
    ):
        policy = _directives(response.headers["Content-Security-Policy"])
        scripts = policy.get("script-src", policy["default-src"])
        assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
        assert policy["default-src"] == ["'self'"]
        assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert re.fullmatch(r"[A-Za-z0-9._-]+", response.headers["X-Request-Id"])


def _set_cookies(response) -> dict[str, str]:
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


def test_cookies_are_httponly_and_samesite_lax(csrf_app):
    client = csrf_app.test_client()
    cookies = _set_cookies(log_in_with_csrf(client, "georgi", remember=True))
    for name in ("session", "remember_token"):
        assert "HttpOnly" in cookies[name] and "SameSite=Lax" in cookies[name]
        assert "Secure" not in cookies[name]  # plain http in development


@pytest.mark.parametrize("how", ["environment", "config"])
def test_cookies_are_secure_behind_https(crm_app_factory, monkeypatch, how):
    if how == "environment":
        monkeypatch.setenv("CRM_HTTPS", "1")
        app = crm_app_factory()
    else:
        app = crm_app_factory(config={"SESSION_COOKIE_SECURE": True})
    make_user(app, "georgi")
    client = app.test_client()
    response = client.post(
        "/login", data={"login": "georgi", "password": TEST_PASSWORD, "remember": "1"}
    )
    assert response.status_code == 302
    cookies = _set_cookies(response)
    for name in ("session", "remember_token"):
        assert "Secure" in cookies[name] and "HttpOnly" in cookies[name]


def test_incoming_request_ids_are_kept_only_when_harmless(csrf_app):
    client = csrf_app.test_client()
    kept = client.get("/health", headers={"X-Request-Id": "lb-1234.abc"})
    assert kept.headers["X-Request-Id"] == "lb-1234.abc"
    replaced = client.get("/health", headers={"X-Request-Id": "<b>" + "x" * 100})
    assert re.fullmatch(r"[0-9a-f]{12}", replaced.headers["X-Request-Id"])


# --- templates ---------------------------------------------------------------------------------

TEMPLATE_GLOBS = (
    "core/templates/**/*.html",
    "plugins/*/*/templates/**/*.html",
    "tests/fixture_plugins/**/templates/**/*.html",
    "core/scaffold_template/**/templates/**/*.tmpl",
)
INLINE = {
    "inline script": re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.I),
    "script body": re.compile(r"<script\b[^>]*>\s*[^<\s]", re.I),
    "style element": re.compile(r"<style\b", re.I),
    "style attribute": re.compile(r"<[^>]*\sstyle\s*=", re.I),
    "event handler": re.compile(r"<[^>]*\son[a-z]+\s*=", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}


def test_templates_hold_no_inline_script_or_style():
    """The CSP forbids them: they would silently not work."""
    templates = sorted({path for pattern in TEMPLATE_GLOBS for path in ROOT.glob(pattern)})
    assert any(p.name == "base.html" for p in templates) and len(templates) > 10
    found = [
        f"{path.relative_to(ROOT)}: {what}"
        for path in templates
        for what, pattern in INLINE.items()
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_every_post_form_carries_the_csrf_token():
    templates = sorted({path for pattern in TEMPLATE_GLOBS for path in ROOT.glob(pattern)})
    missing = []
    for path in templates:
        for form in re.findall(r"<form\b.*?</form>", path.read_text(encoding="utf-8"), re.S | re.I):
            posts = re.search(r"""<form\b[^>]*method=["']?post""", form, re.I)
            if posts and 'name="csrf_token"' not in form:
                missing.append(str(path.relative_to(ROOT)))
    assert missing == []


# --- errors ------------------------------------------------------------------------------------


def _app_with_failing_routes(crm_app_factory):
    """A fresh app with routes that fail, registered before its first request."""
    app = crm_app_factory()
    boom = Blueprint("test_boom", __name__)

    @boom.route("/boom")
    @permission_required(AUTHENTICATED)
    def page_boom():
        raise RuntimeError("secret internals: password=hunter2")

    @boom.route("/api/v1/boom")
    @permission_required(AUTHENTICATED)
    def api_boom():
        raise RuntimeError("secret internals: password=hunter2")

    @boom.route("/conflict")
    @permission_required(PUBLIC)
    def conflict():
        abort(409)

    @boom.route("/slow-down")
    @permission_required(PUBLIC)
    def slow_down():
        abort(429)

    app.register_blueprint(boom)
    make_user(app, "georgi")
    return app


def test_a_500_shows_no_internals_and_is_logged_with_its_request_id(crm_app_factory, caplog):
    app = _app_with_failing_routes(crm_app_factory)
    client = logged_in(app, "georgi")
    caplog.set_level(logging.ERROR, logger="core.app")

    page = client.get("/boom")
    assert page.status_code == 500 and page.mimetype == "text/html"
    request_id = page.headers["X-Request-Id"]
    assert request_id in page.text and "Server error" in page.text
    for secret in ("secret internals", "hunter2", "Traceback", "RuntimeError", "app.py"):
        assert secret not in page.text
    logged = [r for r in caplog.records if request_id in r.getMessage()]
    assert logged and logged[0].exc_info is not None  # the traceback is in the log only

    api = client.get("/api/v1/boom", headers={"X-Request-Id": "trace-42"})
    assert api.status_code == 500 and api.headers["X-Request-Id"] == "trace-42"
    message = api.get_json()["errors"]["_schema"][0]
    assert "trace-42" in message and "hunter2" not in api.text
    assert client.get("/").status_code == 200  # the database session survived


def test_friendly_error_pages(crm_app_factory):
    app = _app_with_failing_routes(crm_app_factory)
    make_user(app, "nobody")
    client = logged_in(app, "nobody")
    expected = {
        "/apps": (403, "Not allowed"),
        "/no-such-page": (404, "Not found"),
        "/conflict": (409, "Conflict"),
        "/slow-down": (429, "Too many requests"),
    }
    for path, (status, title) in expected.items():
        response = client.get(path)
        assert response.status_code == status, path
        assert response.mimetype == "text/html" and title in response.text
        assert "Traceback" not in response.text and "werkzeug" not in response.text.lower()
    not_allowed = client.post("/search")
    assert not_allowed.status_code == 405 and "GET" in not_allowed.headers["Allow"]


def test_api_errors_are_json_naming_the_field(crm_app_factory):
    app = crm_app_factory(["crm_contacts"])
    make_user(app, "georgi", groups=("sales_manager",))
    client = logged_in(app, "georgi")
    bad = client.post(CLIENTS, json={"name": "", "emails": [{"address": "not-an-email"}]})
    assert bad.status_code == 400
    assert {"name", "emails"} <= set(bad.get_json()["errors"])
    missing = client.get("/api/v1/no-such-thing")
    assert missing.status_code == 404 and list(missing.get_json()["errors"]) == ["_schema"]
    wrong_method = client.delete(CLIENTS)
    assert wrong_method.status_code == 405 and "_schema" in wrong_method.get_json()["errors"]
