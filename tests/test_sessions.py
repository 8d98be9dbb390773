"""Logging out ends the session on the server: a cookie saved before and replayed after is void."""

from __future__ import annotations

from core.testing import TEST_PASSWORD, make_user


def _replay(app, name: str, value: str):
    """A fresh browser that carries only the saved cookie ``name``."""
    browser = app.test_client()
    browser.set_cookie(name, value)
    return browser.get("/")


def test_cookies_saved_before_logout_do_not_work_after_it(crm_app_factory):
    app = crm_app_factory()
    make_user(app, "maria")
    browser = app.test_client()
    login = {"login": "maria", "password": TEST_PASSWORD, "remember": "1"}
    assert browser.post("/login", data=login).status_code == 302
    saved = {name: browser.get_cookie(name).value for name in ("session", "remember_token")}
    # Each saved cookie alone opens the home page while the session lasts.
    for name, value in saved.items():
        assert _replay(app, name, value).status_code == 200, name

    assert browser.post("/logout").status_code == 302

    for name, value in saved.items():
        replayed = _replay(app, name, value)
        assert replayed.status_code == 302, name
        assert replayed.headers["Location"].startswith("/login"), name
    # Logging in again works and gives a new session.
    assert browser.post("/login", data=login).status_code == 302
    assert browser.get("/").status_code == 200
