"""Install and uninstall reach processes that are already running, without a restart."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from core.testing import logged_in, make_user
from tests.helpers import free_port

BIN = Path(sys.executable).parent


def test_second_app_on_the_same_database_follows(crm_app_factory):
    first = crm_app_factory(["crm_contacts"])
    url = first.config["DATABASE_URL"]
    second = crm_app_factory(database_url=url)
    make_user(first, "admin2", groups=("admin",))
    one, two = logged_in(first, "admin2"), logged_in(second, "admin2")
    assert two.get("/contacts/clients").status_code == 200
    one.post("/apps/crm_contacts/uninstall", data={"confirm": "crm_contacts"})
    assert two.get("/contacts/clients").status_code == 404
    two.post("/apps/crm_contacts/install")
    assert one.get("/contacts/clients").status_code == 200


def _status(url: str) -> int:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        return opener.open(url, timeout=5).status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, TimeoutError):
        return 0  # not listening yet, or a worker still booting (seconds on a loaded machine)


@pytest.mark.slow
def test_running_gunicorn_workers_follow_the_cli(crm_app_factory, tmp_path):
    app = crm_app_factory(["crm_tasks"])
    env = {
        **os.environ,
        "DATABASE_URL": app.config["DATABASE_URL"],
        "CRM_INSTANCE_PATH": str(tmp_path / "server"),
        "SECRET_KEY": "test",
    }
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "core.wsgi:app"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while _status(base + "/health") != 200:
            assert server.poll() is None, "gunicorn exited: run it by hand to see why"
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        # Anonymous: an installed module's page redirects to the login page.
        assert {_status(base + "/contacts/clients") for _ in range(6)} == {302}

        def cli(*args):
            result = subprocess.run(
                [str(BIN / "crm"), *args], env=env, capture_output=True, text=True, timeout=60
            )
            assert result.returncode == 0, result.stdout + result.stderr
            return result.stdout

        cli("module", "uninstall", "crm_tasks", "--yes")
        cli("module", "uninstall", "crm_contacts", "--yes")
        # Several requests, so both workers answer at least once (they take turns in practice).
        assert {_status(base + "/contacts/clients") for _ in range(8)} == {404}
        assert {_status(base + "/api/v1/contacts/clients") for _ in range(4)} == {404}
        assert "crm_contacts, crm_tasks" in cli("module", "install", "crm_tasks")
        assert {_status(base + "/contacts/clients") for _ in range(8)} == {302}
        assert {_status(base + "/tasks/") for _ in range(4)} == {302}
    finally:
        server.terminate()
        server.wait(timeout=10)
