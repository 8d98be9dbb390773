"""A browser's part of a web import, over HTTP against real servers: gunicorn and ``crm worker``
processes. Shared by the slow tests (tests/test_jobs_web.py) and ``bench/import_jobs.py``."""

from __future__ import annotations

import http.cookiejar
import importlib.util
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def client_csv(clients: int, seed: int = 100) -> bytes:
    """Realistic clients with contact persons: the generator of ``bench/contacts_import.py``."""
    path = ROOT / "bench" / "contacts_import.py"
    spec = importlib.util.spec_from_file_location("bench_contacts", path)
    assert spec is not None and spec.loader is not None
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(ROOT / "bench"))
    content, _facts = module.generate_csv(clients, ["maria", "peter"], seed=seed)
    return content.encode()


@dataclass
class Answer:
    status: int
    location: str
    text: str
    seconds: float


class Browser:
    """Cookies, CSRF tokens, forms and uploads; no redirect followed by itself."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect()
        )
        self.slowest = 0.0  # the longest any request took: gunicorn kills a worker at 30 s

    def _send(self, request: urllib.request.Request) -> Answer:
        started = time.perf_counter()
        try:
            response = self.opener.open(request, timeout=60)
        except urllib.error.HTTPError as error:
            response = error
        with response:
            body = response.read().decode("utf-8", "replace")
        seconds = time.perf_counter() - started
        self.slowest = max(self.slowest, seconds)
        return Answer(response.status, response.headers.get("Location", ""), body, seconds)

    def get(self, path: str) -> Answer:
        return self._send(urllib.request.Request(self.base + path))  # noqa: S310 - http only

    def post(self, path: str, fields: dict[str, str], files: dict | None = None) -> Answer:
        if files:
            boundary = uuid.uuid4().hex
            parts = []
            for name, value in fields.items():
                parts.append(
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                    f"{value}\r\n".encode()
                )
            for name, (filename, data) in files.items():
                parts.append(
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                    f'filename="{filename}"\r\nContent-Type: text/csv\r\n\r\n'.encode()
                    + data
                    + b"\r\n"
                )
            body = b"".join(parts) + f"--{boundary}--\r\n".encode()
            kind = f"multipart/form-data; boundary={boundary}"
        else:
            body = urllib.parse.urlencode(fields).encode()
            kind = "application/x-www-form-urlencoded"
        request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1 only
            self.base + path, data=body, headers={"Content-Type": kind}, method="POST"
        )
        return self._send(request)

    def csrf(self, path: str) -> str:
        return CSRF.search(self.get(path).text).group(1)

    def log_in(self, login: str, password: str) -> None:
        token = self.csrf("/login")
        answer = self.post("/login", {"login": login, "password": password, "csrf_token": token})
        assert answer.status == 302, answer.text[:500]


@dataclass
class Watched:
    """What the job page's script saw while polling a job."""

    job: dict
    states: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def progress_seen(self) -> list[tuple[int, int]]:
        return [
            (s["done"], s["total"])
            for s in self.states
            if s["status"] == "running" and s["total"] and 0 < s["done"] < s["total"]
        ]


def watch(browser: Browser, job_path: str, timeout: float, every: float = 0.25) -> Watched:
    """Poll the job's JSON as the page's script does, until it ends."""
    url = "/api/v1" + job_path
    started = time.perf_counter()
    states: list[dict] = []
    while True:
        answer = browser.get(url)
        assert answer.status == 200, answer.text[:300]
        state = json.loads(answer.text)
        states.append(state)
        if state["finished"]:
            return Watched(state, states, time.perf_counter() - started)
        assert time.perf_counter() - started < timeout, f"the job did not end: {state}"
        time.sleep(every)


def web_import(browser: Browser, data: bytes, timeout: float) -> tuple[Watched, Watched]:
    """Upload → the check → confirm → the import, as a user in a browser; both jobs watched."""
    token = browser.csrf("/contacts/import")
    sent = browser.post(
        "/contacts/import",
        {"csrf_token": token, "action": "preview", "key": "vat_number"},
        files={"file": ("clients.csv", data)},
    )
    assert sent.status == 302 and sent.location.startswith("/jobs/"), sent.text[:500]
    assert browser.get(sent.location).status == 200  # the job page with its bar
    check = watch(browser, sent.location, timeout)
    assert check.job["status"] == "done" and check.job["follow"], check.job
    page = browser.get(check.job["link"])
    assert page.status == 200 and 'data-count="errors">0<' in page.text, page.text[:2000]
    check_id = re.search(r'name="check" value="(\d+)"', page.text).group(1)
    token = CSRF.search(page.text).group(1)
    confirmed = browser.post(
        "/contacts/import", {"csrf_token": token, "action": "confirm", "check": check_id}
    )
    assert confirmed.status == 302 and confirmed.location.startswith("/jobs/"), confirmed.text
    done = watch(browser, confirmed.location, timeout)
    assert done.job["status"] == "done", done.job
    return check, done


def wait_for(base: str, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while True:
        assert process.poll() is None, "gunicorn exited: run it by hand to see why"
        try:
            with urllib.request.urlopen(base + "/health", timeout=5) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except OSError:  # not listening yet, or still loading the application
            pass
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.3)


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [str(BIN / "crm"), "worker", "--threads", "1"], env=env, stdout=out, stderr=out
        )


@contextmanager
def servers(
    env: dict[str, str], port: int, workers: int, log: Path
) -> Iterator[tuple[str, list[subprocess.Popen]]]:
    """gunicorn (two processes, the default 30 s timeout) and ``workers`` ``crm worker``s; their
    output goes to ``log``."""
    with open(log, "ab") as out:
        web = subprocess.Popen(
            [str(BIN / "gunicorn"), "-w", "2", "--timeout", "30", "-b", f"127.0.0.1:{port}",
             "core.wsgi:app"],
            env=env, stdout=out, stderr=out,
        )  # fmt: skip
    started = [start_worker(env, log) for _ in range(workers)]
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base, web)
        yield base, started
    finally:
        for process in (web, *started):
            if process.poll() is None:
                process.terminate()
        for process in (web, *started):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def server_env(app, instance: Path, **extra: str) -> dict[str, str]:
    """The environment that makes a process use ``app``'s database, files and queue."""
    env = {
        **os.environ,
        "DATABASE_URL": app.config["DATABASE_URL"],
        "CRM_INSTANCE_PATH": str(instance),
        "CRM_ATTACHMENTS_URL": app.config["ATTACHMENTS_URL"],
        "CRM_JOBS_URL": app.config["JOBS_URL"],
        "CRM_JOBS_QUEUE": app.config["JOBS_QUEUE"],
        "SECRET_KEY": "test-secret",
    }
    env.update(extra)
    return env
