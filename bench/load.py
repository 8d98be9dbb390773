"""Load with a module change in the middle: gunicorn on PostgreSQL, 20 connections on the main
pages, one module uninstalled and installed again while they run.

    .venv/bin/python bench/load.py [--duration 60] [--connections 20] [--module crm_pricing]

A fresh database (every module, demo data) on the server of ``--server`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``), gunicorn with 4 workers on a free
loopback port, the demo users logged in. Each connection requests the client list, a client file,
the tasks, a price list, the pricing rules and the API in turn. At a quarter of ``--duration`` the
administrator uninstalls the module on the Apps page, a quarter later installs it again, and a
quarter after that the readers stop. Printed: requests, answers by status for the module's own
pages and for the others (and those within a second of a change), latency percentiles. The
database is dropped at the end. Exit status 1 if any answer was a 5xx other than 503, a 403 to
the administrator, or the server logged a traceback.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
CODE = ROOT  # the checkout whose code runs: see --code
BIN = Path(sys.executable).parent
DEMO_PASSWORD = "demo"  # noqa: S105 - the demo users' documented password
# Demo users: an administrator, a sales manager, two representatives.
USERS = ("elena", "georgi", "maria", "peter")


@dataclass
class Sample:
    at: float
    user: str
    path: str
    module_page: bool
    status: int
    ms: float


@dataclass
class Run:
    samples: list[Sample] = field(default_factory=list)
    changes: list[tuple[str, float, float, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def crm(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [str(BIN / "crm"), *args], env=env, cwd=CODE, capture_output=True, text=True, timeout=600
    )
    if check and done.returncode != 0:
        raise SystemExit(f"crm {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done


class Browser:
    """One user's cookies; any number of connections may share them."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )

    def get(self, path: str, timeout: float = 30) -> tuple[int, bytes]:
        try:
            # Only ever http://127.0.0.1:<port>: the URL is built here.
            with self.opener.open(self.base + path, timeout=timeout) as response:  # noqa: S310
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def post(self, path: str, fields: dict[str, str], form_page: str) -> int:
        """Post ``fields`` with the CSRF token of ``form_page``, as the browser would."""
        _status, page = self.get(form_page)
        token = re.search(rb'name="csrf_token" value="([^"]+)"', page)
        if token:
            fields = {**fields, "csrf_token": token.group(1).decode()}
        data = urllib.parse.urlencode(fields).encode()
        request = urllib.request.Request(self.base + path, data=data, method="POST")  # noqa: S310
        try:
            with self.opener.open(request, timeout=120) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def log_in(self, login: str) -> None:
        status = self.post("/login", {"login": login, "password": DEMO_PASSWORD}, "/login")
        if status != 302:
            raise SystemExit(f"login of {login} failed: {status}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def pages(browser: Browser, module: str) -> list[tuple[str, bool]]:
    """The main pages for this user: (path, whether it belongs to the module being changed)."""
    status, body = browser.get("/api/v1/clients?per_page=5")
    items = json.loads(body)["items"] if status == 200 else []
    client = items[0]["id"] if items else 1
    prefix = module.removeprefix("crm_")
    return [
        ("/contacts/clients", False),
        (f"/contacts/clients/{client}", False),
        ("/tasks/", False),
        ("/api/v1/clients?per_page=20", False),
        ("/api/v1/tasks", False),
        ("/", False),
        (f"/{prefix}/clients/{client}/price-list", True),
        (f"/{prefix}/rules", True),
        (f"/api/v1/{prefix}/rules", True),
    ]


def drive(run: Run, browser: Browser, user: str, plan, stop, deadline: float, offset: int) -> None:
    n = offset
    while not stop.is_set() and time.monotonic() < deadline:
        path, module_page = plan[n % len(plan)]
        n += 1
        started = time.monotonic()
        try:
            status, _body = browser.get(path)
        except (OSError, urllib.error.URLError):
            status = 0  # connection refused or reset: counted apart from HTTP answers
        run.add(
            Sample(started, user, path, module_page, status, (time.monotonic() - started) * 1e3)
        )


def change_module(run: Run, admin: Browser, module: str, duration: float, stop) -> None:
    """Through the administrator's Apps page, as an administrator would: uninstall at a quarter
    of the time, install again a quarter after that, stop the readers a quarter later."""
    time.sleep(duration / 4)
    for kind, path, fields, form in (
        (
            "uninstall",
            f"/apps/{module}/uninstall",
            {"confirm": module},
            f"/apps/{module}/uninstall",
        ),
        ("install", f"/apps/{module}/install", {}, "/apps"),
    ):
        began = time.monotonic()
        status = admin.post(path, fields, form)
        _status, page = admin.get("/apps")
        flash = re.search(rb'class="alert[^"]*"[^>]*>\s*([^<]+)', page)
        message = flash.group(1).decode().strip() if flash else ""
        run.changes.append((kind, began, time.monotonic(), f"{status} {message}"))
        time.sleep(duration / 4)
    stop.set()


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def report(run: Run, started: float, duration: float, connections: int, module: str) -> int:
    samples = run.samples
    windows = [(b - 1.0, e + 1.0) for _k, b, e, _o in run.changes]  # a second either side

    def during(s: Sample) -> bool:
        return any(b <= s.at <= e for b, e in windows)

    print(f"\n{len(samples)} requests in {duration:.0f} s over {connections} connections "
          f"({len(samples) / duration:.0f}/s); module changed: {module}")  # fmt: skip
    for kind, began, ended, outcome in run.changes:
        print(f"  {kind:9} at {began - started:5.1f} s, took {ended - began:4.1f} s  {outcome}")
    for title, chosen in (
        (f"pages of {module}", [s for s in samples if s.module_page]),
        ("other pages", [s for s in samples if not s.module_page]),
    ):
        counts = Counter(s.status for s in chosen)
        near = Counter(s.status for s in chosen if during(s))
        print(f"\n{title}: {len(chosen)} requests")
        print("  status  all    during the change (±1 s)")
        for status in sorted(counts):
            print(f"  {status:<6}  {counts[status]:<6} {near.get(status, 0)}")
    latencies = [s.ms for s in samples]
    changing = [s.ms for s in samples if during(s)]
    print("\nlatency (ms)      p50     p95     p99     max")
    for title, values in (("all", latencies), ("during changes", changing)):
        print(f"  {title:15} {percentile(values, 50):6.1f}  {percentile(values, 95):6.1f}  "
              f"{percentile(values, 99):6.1f}  {max(values, default=0):6.1f}")  # fmt: skip
    server_errors = [s for s in samples if s.status >= 500 and s.status != 503 or s.status == 0]
    admin_refused = [s for s in samples if s.status == 403 and s.user == USERS[0]]
    others_failed = [s for s in samples if not s.module_page and s.status not in (200, 302)]
    print(f"\n5xx other than 503 (or refused connections): {len(server_errors)}; "
          f"403 to the administrator: {len(admin_refused)}; "
          f"other pages not 200/302: {len(others_failed)}")  # fmt: skip
    for s in (server_errors + admin_refused + others_failed)[:10]:
        print(f"  {s.at - started:5.1f} s {s.user:7} {s.status} {s.path}")
    return 1 if server_errors or admin_refused else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--module", default="crm_pricing")
    parser.add_argument(
        "--server",
        default=os.environ.get(
            "CRM_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument(
        "--code",
        type=Path,
        default=ROOT,
        help="another checkout of the CRM to measure (an older commit, say), in this environment",
    )
    args = parser.parse_args()
    global CODE
    CODE = args.code.resolve()

    server = make_url(args.server)
    name = f"crm_load_{uuid.uuid4().hex[:8]}"
    server_engine = create_engine(server, isolation_level="AUTOCOMMIT")
    with server_engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    instance = Path(tempfile.gettempdir()) / name
    env = {
        **os.environ,
        "DATABASE_URL": server.set(database=name).render_as_string(hide_password=False),
        "SECRET_KEY": uuid.uuid4().hex,
        "CRM_INSTANCE_PATH": str(instance),
        "CRM_ADMIN_PASSWORD": uuid.uuid4().hex,
    }
    if CODE != ROOT:  # ahead of the editable installs of this environment
        paths = [CODE, *sorted(p for p in (CODE / "plugins").iterdir() if p.is_dir())]
        env["PYTHONPATH"] = os.pathsep.join(map(str, paths))
    gunicorn = None
    status = 1
    try:
        print(f"database {name}: init, every module, demo data ...", flush=True)
        crm(env, "init")
        crm(env, "module", "install", "--all")
        crm(env, "demo")
        port = free_port()
        gunicorn = subprocess.Popen(
            [str(BIN / "gunicorn"), "--workers", str(args.workers), "--bind", f"127.0.0.1:{port}",
             "--timeout", "60", "--log-level", "warning", "core.wsgi:app"],
            env=env, cwd=CODE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/login", timeout=2).read()  # noqa: S310
                break
            except OSError:
                time.sleep(0.1)
        browsers = {}
        for login in USERS:
            browsers[login] = Browser(base)
            browsers[login].log_in(login)
        plans = {login: pages(b, args.module) for login, b in browsers.items()}

        run = Run()
        start = time.monotonic()
        stop = threading.Event()
        deadline = start + 3 * args.duration  # however slow the machine, it ends
        threads = []
        for i in range(args.connections):
            user = USERS[i % len(USERS)]
            work = (run, browsers[user], user, plans[user], stop, deadline, i)
            threads.append(threading.Thread(target=drive, args=work))
        # The administrator changes the module from a browser of his own.
        admin = Browser(base)
        admin.log_in(USERS[0])
        changer = threading.Thread(
            target=change_module, args=(run, admin, args.module, args.duration, stop)
        )
        for thread in [*threads, changer]:
            thread.start()
        for thread in [*threads, changer]:
            thread.join(timeout=4 * args.duration)
        stop.set()
        status = report(run, start, time.monotonic() - start, args.connections, args.module)
    finally:
        if gunicorn is not None:
            gunicorn.terminate()
            try:
                _out, errors = gunicorn.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                gunicorn.kill()
                _out, errors = gunicorn.communicate()
            tracebacks = errors.count("Traceback")
            print(f"\ngunicorn log: {tracebacks} tracebacks")
            if tracebacks:
                status = 1  # an error a page swallowed (a section left out) is an error too
            for line in [x for x in errors.splitlines() if "Error" in x][:8]:
                print(f"  {line[:160]}")
        with server_engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server_engine.dispose()
    return status


if __name__ == "__main__":
    sys.exit(main())
