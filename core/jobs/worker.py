"""``crm worker``: the huey consumer that runs jobs, and the scheduler's clock beside it."""

from __future__ import annotations

import logging
import threading

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from core.jobs.queue import job_queue
from core.jobs.scheduler import tick

log = logging.getLogger(__name__)


def run_queued(app: Flask) -> int:
    """Run, in this thread, every job waiting in the queue (and those whose retry time has come);
    return how many messages were handled. ``crm worker --burst`` and the tests use it."""
    huey = job_queue(app).huey
    handled = 0
    while True:
        for task in huey.read_schedule():
            huey.enqueue(task)
        task = huey.dequeue()
        if task is None:
            return handled
        if not huey.ready_to_run(task):
            huey.add_schedule(task)
            continue
        huey.execute(task)
        handled += 1


class Ticker(threading.Thread):
    """Calls ``tick`` every ``JOBS_TICK_SECONDS`` until stopped."""

    def __init__(self, app: Flask) -> None:
        super().__init__(name="crm-scheduler", daemon=True)
        self.app = app
        self.halt = threading.Event()

    def run(self) -> None:
        interval = float(self.app.config["JOBS_TICK_SECONDS"])
        while True:
            try:
                report = tick(self.app)
                if report.started or report.restarted or report.failed:
                    log.info("scheduler: %s", report)
            except Exception:
                log.exception("scheduler tick failed")
            if self.halt.wait(interval):
                return


@click.command("worker")
@click.option("--threads", default=2, show_default=True, help="Jobs run at the same time.")
@click.option(
    "--burst", is_flag=True, help="Run the jobs waiting now (and one scheduler tick), then stop."
)
@click.option(
    "--scheduler/--no-scheduler",
    default=True,
    show_default=True,
    help="Start periodic jobs and restart those of dead workers (harmless on every worker).",
)
@with_appcontext
def worker_command(threads: int, burst: bool, scheduler: bool) -> None:
    """Run background jobs: imports, exports, reminders. Start as many as you like, on any host
    that reaches the database and the queue (CRM_JOBS_URL)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    queue = job_queue(app)
    url = app.config["JOBS_URL"]
    if burst:
        if scheduler:
            tick(app)
        click.echo(f"Handled {run_queued(app)} job messages from {url}.")
        return
    click.echo(f"CRM worker: {threads} thread(s), queue {url}")
    if scheduler:
        Ticker(app).start()
    consumer = queue.huey.create_consumer(
        workers=threads, worker_type="thread", periodic=False, scheduler_interval=1, max_delay=1.0
    )
    consumer.run()
