"""The done-when of background jobs, end to end over HTTP: a web import of clients from the
browser's point of view under gunicorn (two processes, the default 30 s timeout) with ``crm
worker`` processes beside it, on SQLite with the embedded default (the queue in a SQLite file, one
worker) and, in the PostgreSQL run, on PostgreSQL with Redis and two workers. 5,000 clients here;
``bench/import_jobs.py`` runs 100,000 and prints the time."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.jobs import job_queue
from core.testing import make_user
from crm_contacts.models import Client
from tests.helpers import free_port
from tests.web_import import Browser, client_csv, server_env, servers, web_import

CLIENTS = 3_000


def redis_url() -> str | None:
    """The Redis the PostgreSQL run uses (CRM_TEST_REDIS_URL, else db 15 of the local one), if it
    answers."""
    import redis

    url = os.environ.get("CRM_TEST_REDIS_URL") or "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError:
        return None
    return url


@pytest.mark.slow
def test_a_web_import_shows_its_progress_to_the_end_under_gunicorn(
    crm_app_factory, crm_databases, tmp_path
):
    config = {}
    workers = 1
    if crm_databases.postgres:
        url = redis_url()
        if url is None:
            pytest.skip("no Redis answers: the PostgreSQL + Redis run needs one")
        config = {"JOBS_URL": url, "JOBS_QUEUE": f"crm-test-{uuid.uuid4().hex[:8]}"}
        workers = 2
    app = crm_app_factory(["crm_contacts"], config=config)
    make_user(app, "boss", groups=("sales_manager",))
    make_user(app, "maria", groups=("sales_rep",))
    make_user(app, "peter", groups=("sales_rep",))
    data = client_csv(CLIENTS)
    env = server_env(app, tmp_path / "server")
    try:
        with servers(env, free_port(), workers, log=tmp_path / "servers.log") as (base, _):
            browser = Browser(base)
            browser.log_in("boss", "correct horse battery staple")
            check, done = web_import(browser, data, timeout=600)  # room for a loaded machine
    finally:
        if crm_databases.postgres:
            job_queue(app).huey.flush()
    log = (tmp_path / "servers.log").read_text(errors="replace")
    assert "WORKER TIMEOUT" not in log
    # The bar moved: the page saw the job part-way, in both jobs, and then at the end.
    assert check.progress_seen and done.progress_seen, (check.states, done.states)
    assert done.job["percent"] == 100
    assert done.job["summary"].startswith(f"clients.csv imported: {CLIENTS} new clients")
    assert browser.slowest < 10, f"a request took {browser.slowest:.1f} s"
    with Session(app.extensions["crm"].engine) as session:
        assert session.scalar(select(func.count()).select_from(Client)) == CLIENTS
