"""A worker killed with SIGKILL halfway through an import: the import's transaction dies with it
(no client written), the job does not stay "running": the scheduler of another worker finds its
heartbeat stale and starts it again, and the second attempt imports every client."""

from __future__ import annotations

import os
import signal
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db import db_session
from core.jobs import DONE, RUNNING, Job, enqueue, job_queue
from core.models import User
from core.testing import make_user
from crm_contacts.models import Client
from tests.web_import import client_csv, server_env, start_worker

CLIENTS = 4_000


def clients(app) -> int:
    with Session(app.extensions["crm"].engine) as session:
        return session.scalar(select(func.count()).select_from(Client))


def row(app, job_id: int) -> Job:
    with Session(app.extensions["crm"].engine) as session:
        return session.get(Job, job_id)


@pytest.mark.slow
def test_a_worker_killed_halfway_leaves_no_client_and_the_job_is_started_again(
    crm_app_factory, tmp_path
):
    app = crm_app_factory(["crm_contacts"])
    make_user(app, "boss", groups=("sales_manager",))
    make_user(app, "maria", groups=("sales_rep",))
    make_user(app, "peter", groups=("sales_rep",))
    with app.test_request_context():
        boss = db_session.scalar(select(User).where(User.login == "boss"))
        job_id = enqueue(
            "crm_contacts.import",
            boss,
            files={"upload": client_csv(CLIENTS)},
            key="vat_number",
            filename="clients.csv",
        )
    env = server_env(
        app,
        tmp_path / "worker",
        CRM_JOBS_HEARTBEAT_SECONDS="0.5",
        CRM_JOBS_STALE_SECONDS="3",
        CRM_JOBS_TICK_SECONDS="0.5",
    )
    log = tmp_path / "workers.log"
    first = start_worker(env, log)
    queue = job_queue(app)
    try:
        deadline = time.monotonic() + 300  # a loaded machine checks slowly
        while True:  # until the job writes clients, part-way
            progress = queue.progress(job_id)
            if (
                progress
                and progress[2] == "Checking and writing rows"
                and 0 < progress[0] < progress[1]
            ):
                break
            assert first.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"never saw the import writing: {progress}"
            time.sleep(0.02)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    killed_at = progress
    assert clients(app) == 0, "a killed import left clients behind"
    assert row(app, job_id).status == RUNNING  # what the dead worker left

    second = start_worker(env, log)
    try:
        deadline = time.monotonic() + 600  # checked again, then written
        while row(app, job_id).status != DONE:
            assert second.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"not done again: {row(app, job_id).status}"
            time.sleep(0.5)
    finally:
        second.terminate()
        second.wait(timeout=30)
    done = row(app, job_id)
    assert done.attempts == 2, (killed_at, done.error)
    assert clients(app) == CLIENTS
    assert done.result_summary.startswith(f"clients.csv imported: {CLIENTS} new clients")
