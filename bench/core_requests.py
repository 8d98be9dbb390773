"""What the core costs per request, with every bundled module installed.

Builds a SQLite database with 100,000 clients, then times (median of many requests through the real
WSGI stack, Flask test client) a paginated JSON API page and the health check, counts the SQL
statements each request issues, and compares with raw sqlite3 fetching the same page of rows.

    .venv/bin/python bench/core_requests.py [--clients 100000] [--requests 300]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from common import BUNDLED, bench_app, median_ms
from sqlalchemy import event, insert

from core.auth import create_user
from core.db import db_session
from core.modules import bump_signal


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--show-sql", action="store_true", help="print the API request's SQL")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="crm-bench-"))
    path = folder / "bench.sqlite3"
    app = bench_app(folder, path, BUNDLED)
    engine = app.extensions["crm"].engine

    from crm_contacts.models import Client

    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(
            insert(Client),
            [
                {"name": f"Client {i:06d}", "status": "active", "version": 1,
                 # What the ORM's before_flush listener would keep: bulk inserts bypass it.
                 "search_text": f"client {i:06d}"}
                for i in range(args.clients)
            ],
        )  # fmt: skip
    print(f"inserted {args.clients} clients in {time.perf_counter() - started:.1f} s")
    with app.app_context():
        create_user(db_session, "bench", "bench-password", groups=("admin",))
        db_session.commit()

    client = app.test_client()
    client.post("/login", data={"login": "bench", "password": "bench-password"})
    page = args.clients // 25 // 2  # the middle of the list: OFFSET is not free
    url = f"/api/v1/clients?page={page}&per_page=25&sort=name"
    assert client.get(url).status_code == 200

    statements: list[str] = []

    def count(*args):
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    client.get(url)
    api_queries = len(statements)
    if args.show_sql:
        print(*statements, sep="\n---\n")
    statements.clear()
    client.get("/health")
    health_queries = len(statements)
    event.remove(engine, "before_cursor_execute", count)

    api_ms = median_ms(lambda _i: client.get(url), args.requests)
    health_ms = median_ms(lambda _i: client.get("/health"), args.requests)

    def request_after_registry_change():
        # What every worker pays once after an install, uninstall or record-rule switch.
        with engine.begin() as connection:
            bump_signal(connection)
        started = time.perf_counter()
        client.get("/health")
        return (time.perf_counter() - started) * 1000

    rebuild_ms = statistics.median(request_after_registry_change() for _ in range(30))

    raw = sqlite3.connect(path)
    offset = (page - 1) * 25

    def raw_page(_i):
        raw.execute("SELECT count(*) FROM crm_contacts_client").fetchone()
        raw.execute(
            "SELECT * FROM crm_contacts_client ORDER BY name LIMIT 25 OFFSET ?", (offset,)
        ).fetchall()

    raw_ms = median_ms(raw_page, args.requests)
    print(f"API page {page} of 25 clients, sorted by name: {api_ms:.2f} ms median, "
          f"{api_queries} SQL statements")  # fmt: skip
    print(f"raw sqlite3, same count and page:           {raw_ms:.2f} ms median")
    print(f"ratio API / raw SQL:                         {api_ms / raw_ms:.1f}")
    print(f"/health (gate, no login):                   {health_ms:.2f} ms median, "
          f"{health_queries} SQL statements")  # fmt: skip
    print(
        f"first request after a registry change:      {rebuild_ms:.2f} ms median "
        "(plugin manager, models, menus, rules rebuilt)"
    )


if __name__ == "__main__":
    main()
