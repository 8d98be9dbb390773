"""A minimal browser-test harness: the application served by a real HTTP server in a thread, and
Debian's Chromium driven by Playwright for Python (it cannot download browsers here, so it is
launched with ``executable_path``). A failed test leaves a screenshot in ``CRM_SCREENSHOTS`` (a
folder; default: the test's temporary folder); tests may save more there with ``shot(page, name)``.

Browser test modules mark themselves ``browser`` and ``slow`` (``pytestmark``): ``pytest -m
browser`` runs only them. Without
Chromium they are skipped, except under ``CI=true``, where a skipped browser test fails the run.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CRM_CHROMIUM", "/usr/bin/chromium")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.crm_failed = report.failed
    return report


def screenshots_folder(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("CRM_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def playwright_browser():
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        # As root (CI) Chromium refuses to start in its sandbox.
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


class LiveServer:
    def __init__(self, app) -> None:
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)


@pytest.fixture
def live_server_for():
    """``live_server_for(app)``: serve ``app`` over HTTP for this test; ``.url`` is its address."""
    servers: list[LiveServer] = []

    def start(app) -> LiveServer:
        server = LiveServer(app).__enter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.__exit__(None, None, None)


@pytest.fixture
def page(playwright_browser, request, tmp_path) -> Iterator:
    """A fresh browser page; JavaScript errors, console errors and server errors (5xx) are
    collected in ``page.crm_errors`` (a test asserts there are none), and a failed test leaves a
    screenshot."""
    context = playwright_browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))

    def on_console(message) -> None:
        # A 4xx answer (a form's validation errors, the favicon) is logged by Chromium as a
        # failed resource: expected; server errors are caught from the responses below.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(f"console: {message.text}")

    page.on("console", on_console)
    page.on(
        "response",
        lambda response: (
            errors.append(f"{response.status}: {response.url}") if response.status >= 500 else None
        ),
    )
    page.crm_errors = errors
    yield page
    if getattr(request.node, "crm_failed", False):
        page.screenshot(
            path=str(screenshots_folder(tmp_path) / f"FAILED-{request.node.name}.png"),
            full_page=True,
        )
    context.close()


@pytest.fixture
def shot(tmp_path):
    """``shot(page, name)``: a full-page screenshot in the screenshots folder."""

    def take(page, name: str) -> Path:
        path = screenshots_folder(tmp_path) / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def browser_login():
    """``browser_login(page, base_url, login, password)``: through the login form."""

    def log_in(page, base_url: str, login: str, password: str) -> None:
        page.goto(base_url + "/login")
        page.fill("#login", login)
        page.fill("#password", password)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url)

    return log_in
