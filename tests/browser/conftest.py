"""Browser tests: Playwright drives Debian's Chromium against a live server of the real application.

One server for the whole session: every bundled module installed by its real migrations, the demo
data of every module written as ``crm demo`` writes it, served by a threaded WSGI server on a
free port (CSRF on, not in TESTING mode, as ``crm run`` serves it). Each demo role logs in once
through the login form; each test gets a fresh browser context carrying that session's cookie.

Every page a test opens is watched: an uncaught JavaScript error (``pageerror``), a console error
other than the browser's note about an expected 4xx answer, or any answer of 500 or more fails the
test, with the server's traceback when it logged one. A failing test leaves a screenshot in
``CRM_BROWSER_ARTIFACTS`` (default ``.browser-failures/`` at the repository's root).

Chromium is ``/usr/bin/chromium`` (``CRM_CHROMIUM`` overrides it): Playwright cannot download its
own browsers here. Without Chromium or Playwright the tests skip, except under ``CI=true``, where a
skipped browser test fails the run: CI must never pass because the browser was missing.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from werkzeug.serving import make_server

import core
from core.core_hooks import DEMO_PASSWORD
from core.state import current_state

CHROMIUM = os.environ.get("CRM_CHROMIUM", "/usr/bin/chromium")
REPOSITORY = Path(core.__file__).resolve().parent.parent
ARTIFACTS = Path(os.environ.get("CRM_BROWSER_ARTIFACTS") or REPOSITORY / ".browser-failures")

# The demo users of the journeys (core/core_hooks.py DEMO_USERS), one per role.
ROLES = {
    "admin": "elena",
    "manager": "georgi",
    "representative": "maria",
    "back_office": "vera",
}

# What Chromium writes to the console by itself when a fetch or a page answers 4xx: expected when a
# role opens what it may not (403) or a record that is gone (404). Anything else is a defect.
EXPECTED_CONSOLE = re.compile(
    r"Failed to load resource: the server responded with a status of 4\d\d"
)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


# --- skips of browser tests fail the run under CI --------------------------------------------


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    # Kept on the item for the screenshot-on-failure teardown below.
    setattr(item, f"crm_report_{report.when}", report)
    if report.skipped and in_ci() and item.get_closest_marker("browser"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"browser test skipped under CI=true (it must run in CI): {reason}"


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)


# --- the live server ---------------------------------------------------------------------------


class ServerErrors(logging.Handler):
    """Keeps the tracebacks the application logs for its 500 answers, to show in the failure."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(self.format(record))


@dataclass
class LiveServer:
    url: str
    app: object
    errors: ServerErrors

    def __call__(self, path: str = "/") -> str:
        return self.url + path


def bundled_modules(plugins) -> list[str]:
    """The modules shipped in this repository's ``plugins/`` (not the test suite's fixtures)."""
    folder = REPOSITORY / "plugins"
    return [
        name
        for name, info in plugins.items()
        if not info.broken and info.package_dir and folder in info.package_dir.parents
    ]


def write_demo_data(app) -> None:
    """What ``crm demo`` does: the core's demo users first, then every installed module's data."""
    from core.db import db_session
    from core.plugins import call_one

    with app.test_request_context("/"):
        state = current_state()
        for module in ("core", *state.installed):
            call_one(state.pm, "crm_demo_data", module, session=db_session, scale=1)
            db_session.commit()


@pytest.fixture(scope="session")
def live_server(crm_databases, crm_plugins, tmp_path_factory) -> Iterator[LiveServer]:
    from core.app import create_app

    modules = bundled_modules(crm_plugins)
    url = crm_databases.fresh(modules, crm_plugins)
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "browser-test-secret",
            "INSTANCE_PATH": str(tmp_path_factory.mktemp("browser-instance")),
            "ARGON2_PARAMETERS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
            # Static files cached as a production server would let them be, so that the browser
            # does not ask for Bootstrap again on every page of a crawl.
            "SEND_FILE_MAX_AGE_DEFAULT": 3600,
        },
        plugins=crm_plugins,
    )
    write_demo_data(app)
    # One line per request of a crawl would bury a failure's report.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    errors = ServerErrors()
    errors.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    logging.getLogger().addHandler(errors)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="crm-live-server", daemon=True)
    thread.start()
    # A worker beside the server, as `make run` starts one: imports and exports are jobs.
    stop = threading.Event()

    def work() -> None:
        from core.jobs import run_queued

        while not stop.is_set():
            run_queued(app)
            stop.wait(0.2)

    worker = threading.Thread(target=work, name="crm-live-worker", daemon=True)
    worker.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", app, errors)
    finally:
        stop.set()
        worker.join(timeout=30)
        server.shutdown()
        thread.join(timeout=10)
        logging.getLogger().removeHandler(errors)
        app.extensions["crm"].engine.dispose()


# --- the browser -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright is not installed (pip install -e '.[dev]')")
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).is_file():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()
    finally:
        playwright.stop()


@dataclass
class PageWatch:
    """What went wrong on the pages of one test: JavaScript errors, console errors, 5xx answers."""

    problems: list[str] = field(default_factory=list)

    def attach(self, page) -> None:
        page.on("pageerror", lambda error: self.problems.append(f"JavaScript error: {error}"))
        page.on("console", self._console)
        page.on("response", self._response)

    def _console(self, message) -> None:
        if message.type == "error" and not EXPECTED_CONSOLE.search(message.text):
            where = message.location.get("url", "") if message.location else ""
            self.problems.append(f"console error on {where}: {message.text}")

    def _response(self, response) -> None:
        if response.status >= 500:
            self.problems.append(f"{response.status} from {response.request.method} {response.url}")

    def take(self) -> list[str]:
        found, self.problems = self.problems, []
        return found


def log_in_through_form(page, server: LiveServer, login: str, password: str = DEMO_PASSWORD):
    page.goto(server("/login"))
    page.get_by_label("Login").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name=re.compile("log in", re.I)).click()
    page.wait_for_url(lambda url: "/login" not in url)


def pick(page, label: str, text: str, option: str | re.Pattern | None = None) -> None:
    """Choose in a picker: focus it, type a few letters, take the option that names ``option``."""
    field = page.get_by_role("combobox", name=re.compile(rf"^{re.escape(label)}\b"))
    field.focus()
    page.keyboard.type(text, delay=20)
    from playwright.sync_api import expect

    choice = page.get_by_role("option", name=option or re.compile(re.escape(text), re.I)).first
    expect(choice).to_be_visible()
    # Clicked: Enter takes the highlighted option, which was seen to stay on the current value
    # (typing "Maria" over "Peter Ivanov" and Enter kept Peter): reported with the pickers.
    choice.click()
    page.keyboard.press("Escape")
    # Settled before the test goes on: the list closed and no answer awaited.
    expect(page.get_by_role("listbox")).to_have_count(0)
    expect(page.locator(".ts-wrapper.loading")).to_have_count(0)


@pytest.fixture(scope="session")
def role_sessions(browser, live_server, tmp_path_factory) -> Callable[[str], dict]:
    """``role_sessions(role)``: the storage state (cookies) of the role's demo user, logged in once
    per test session through the login form."""
    states: dict[str, dict] = {}

    def still_valid(state: dict) -> bool:
        # A test that logs its user out ends all of that user's sessions (core/auth.py), the
        # one kept here too: asked again, not handed to the next test logged out.
        context = browser.new_context(base_url=live_server.url, storage_state=state)
        try:
            answer = context.request.get("/account/password", max_redirects=0)
            return answer.status == 200
        finally:
            context.close()

    def get(role: str) -> dict:
        if role not in states or not still_valid(states[role]):
            context = browser.new_context()
            page = context.new_page()
            log_in_through_form(page, live_server, ROLES[role])
            states[role] = context.storage_state()
            context.close()
        return states[role]

    return get


class Browsing:
    """A test's way into the browser: ``browsing.as_role("representative")`` gives a new page,
    logged in, watched; ``browsing.anonymous()`` one that is not."""

    def __init__(self, browser, server: LiveServer, sessions, request) -> None:
        self.browser = browser
        self.server = server
        self.sessions = sessions
        self.request = request
        self.watch = PageWatch()
        self.pages: list = []
        self.contexts: list = []

    def _page(self, storage_state=None):
        context = self.browser.new_context(
            base_url=self.server.url,
            storage_state=storage_state,
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        page = context.new_page()
        self.watch.attach(page)
        self.pages.append(page)
        return page

    def as_role(self, role: str):
        return self._page(self.sessions(role))

    def anonymous(self):
        return self._page()

    def problems(self) -> list[str]:
        """The problems seen so far (and forgets them), with the server's tracebacks of 500s."""
        found = self.watch.take()
        if any(re.match(r"5\d\d from", p) for p in found) and self.server.errors.records:
            found.append("server log:\n" + "\n".join(self.server.errors.records))
            self.server.errors.records.clear()
        return found

    def close(self, failed: bool) -> None:
        if failed:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.request.node.nodeid)
            for n, page in enumerate(self.pages):
                if not page.is_closed():
                    path = ARTIFACTS / f"{name}-{n}.png"
                    page.screenshot(path=str(path), full_page=True)
                    print(f"screenshot of {page.url}: {path}")
        for context in self.contexts:
            context.close()


@pytest.fixture
def browsing(browser, live_server, role_sessions, request) -> Iterator[Browsing]:
    live_server.errors.records.clear()
    browsing = Browsing(browser, live_server, role_sessions, request)
    yield browsing
    report = getattr(request.node, "crm_report_call", None)
    failed = bool(report and report.failed)
    problems = browsing.problems()
    browsing.close(failed=failed or bool(problems))
    if problems and not failed:
        pytest.fail("the pages of this test went wrong:\n" + "\n".join(problems))
