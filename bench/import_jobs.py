"""A web import of 100,000 clients through background jobs, end to end, as a user sees it.

Builds a fresh database with every bundled module (SQLite, the embedded default; or the empty
PostgreSQL database ``--database-url`` names), starts gunicorn (two processes, the default 30 s
worker timeout) and ``crm worker`` processes (one on the embedded default, with its queue in a
SQLite file; ``--workers 2 --redis redis://…`` for the production set-up), logs in over HTTP,
uploads the CSV of ``bench/contacts_import.py``, polls the check job's JSON as the job page's
script does, confirms, polls the import job, and prints the time of each step, the slowest
request and the number of clients in the database at the end.

    .venv/bin/python bench/import_jobs.py [--clients 100000]
    .venv/bin/python bench/import_jobs.py --workers 2 --redis redis://127.0.0.1:6379/14 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1/crm_bench
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.web_import

from common import BUNDLED  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from core.app import create_app  # noqa: E402
from core.auth import create_user  # noqa: E402
from core.db import db_session  # noqa: E402
from core.modules import init_core, install  # noqa: E402
from core.plugins import discover  # noqa: E402
from tests.helpers import free_port  # noqa: E402
from tests.web_import import Browser, client_csv, server_env, servers, web_import  # noqa: E402

PASSWORD = "bench-password"  # noqa: S105 - a throw-away database


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: SQLite)")
    parser.add_argument("--redis", help="the queue on Redis (default: a SQLite file)")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="crm-bench-jobs-"))
    config = {
        "DATABASE_URL": args.database_url or f"sqlite:///{folder / 'bench.sqlite3'}",
        "SECRET_KEY": "test-secret",
        "INSTANCE_PATH": str(folder / "instance"),
        "TESTING": True,
    }
    if args.redis:
        config.update(JOBS_URL=args.redis, JOBS_QUEUE=f"crm-bench-{uuid.uuid4().hex[:8]}")
    plugins = discover()
    app = create_app(config, plugins=plugins)
    engine = app.extensions["crm"].engine
    init_core(engine, plugins)
    install(engine, plugins, [m for m in BUNDLED if m in plugins and not plugins[m].broken])
    with app.app_context():
        create_user(db_session, "bench", PASSWORD, name="Bench", groups=("admin",))
        for login in ("maria", "peter"):
            create_user(db_session, login, PASSWORD, name=login.title(), groups=("sales_rep",))
        db_session.commit()

    started = time.perf_counter()
    data = client_csv(args.clients)
    print(f"CSV of {args.clients:,} clients: {len(data) / 1e6:.1f} MB in "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    queue = "Redis" if args.redis else "a SQLite file"
    print(
        f"database {engine.dialect.name}, queue on {queue}, {args.workers} worker(s), "
        "gunicorn -w 2 --timeout 30"
    )
    log = folder / "servers.log"
    with servers(server_env(app, folder / "instance"), free_port(), args.workers, log) as (
        base,
        _processes,
    ):
        browser = Browser(base)
        browser.log_in("bench", PASSWORD)
        started = time.perf_counter()
        check, done = web_import(browser, data, timeout=3600)
        total = time.perf_counter() - started
    with app.app_context():
        from crm_contacts.models import Client

        clients = db_session.scalar(select(func.count()).select_from(Client))
    timeouts = log.read_text(errors="replace").count("WORKER TIMEOUT")
    print(f"check job: {check.seconds:.1f} s ({len(check.progress_seen)} progress states seen)")
    print(f"import job: {done.seconds:.1f} s ({len(done.progress_seen)} progress states seen)")
    print(f"WEB IMPORT of {args.clients:,} clients, upload to result: {total:.1f} s; "
          f"slowest request {browser.slowest:.2f} s; gunicorn timeouts: {timeouts}; "
          f"clients in the database: {clients:,}")  # fmt: skip
    print(f"summary: {done.job['summary']}")
    if args.redis:
        from core.jobs import job_queue

        job_queue(app).huey.flush()


if __name__ == "__main__":
    main()
