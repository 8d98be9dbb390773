"""crm_competitors at 100,000 clients: the competitor's page with 2,000 strategy changes and 5,000
presences, and the pages around it.

Builds a fresh SQLite database with crm_contacts and crm_competitors: ``--clients`` clients spread
over five regions and ten representatives (bulk inserts: the import is measured by
``bench/contacts_import.py``), eight competitors present at a third of the clients, the measured
one at 5,000 of them with 2,000 moves over eight years. Then, through the real WSGI stack (Flask
test client, a logged-in sales manager), it times the median of: the competitor's page, its timeline
filtered by kind and region, a move's page with who it concerns, the recent moves of every
competitor, the list of presences, and the client file of a client where competitors are present;
with the number of SQL statements each request issues and the ratio to raw sqlite3 running the
same statements (the page's own SQL, captured): what the framework, the ORM and the templates add.
The CPU column is this process's CPU time per request: on a shared machine it is what the code
costs, where the wall time (the median) also counts the waits for a core.

    .venv/bin/python bench/competitors.py [--clients 100000] [--requests 50]
    .venv/bin/python bench/competitors.py --database /tmp/crm-bench-competitors-…/bench.sqlite3

Target (issue 16): the competitor's page under 100 ms median at 100,000 clients.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from common import bench_app, median_ms
from sqlalchemy import event, func, insert, select

from core.auth import create_user
from core.db import db_session

TARGET_MS = 100
REGIONS = ("North", "South", "Sofia", "Black Sea coast", "Abroad")
GROUPS = ("Beverages", "Dairy products", "Bakery", "Snacks", "Frozen food", "Cleaning products")
KINDS = ("price_change", "promotion", "new_product", "region_entry", "other")
MEASURED_PRESENCES, MEASURED_CHANGES, OTHER_COMPETITORS = 5000, 2000, 7


def build(app, clients: int) -> None:
    from crm_competitors.models import (
        Change,
        ChangeGroup,
        Competitor,
        Presence,
        PresenceGroup,
        change_region,
        competitor_region,
    )  # fmt: skip
    from crm_contacts.models import Client, Region

    rng = random.Random(16)
    started = time.perf_counter()
    with app.app_context():
        reps = [create_user(db_session, f"rep{i}", "bench-password", name=f"Rep {i}",
                            groups=("sales_rep",)).id for i in range(10)]  # fmt: skip
        create_user(db_session, "bench", "bench-password", name="Bench",
                    groups=("sales_manager",))  # fmt: skip
        db_session.execute(insert(Region), [{"name": n, "order": i} for i, n in enumerate(REGIONS)])
        regions = db_session.scalars(select(Region.id).order_by(Region.id)).all()
        for start in range(0, clients, 20_000):
            db_session.execute(
                insert(Client),
                [{"name": f"Client {i:06}", "responsible_id": reps[i % len(reps)],
                  "region_id": regions[i % len(regions)], "status": "active",
                  "search_text": f"client {i:06}"}
                 for i in range(start, min(clients, start + 20_000))],
            )  # fmt: skip
        client_ids = db_session.scalars(select(Client.id).order_by(Client.id)).all()
        db_session.execute(
            insert(Competitor),
            [{"name": f"Competitor {i}", "status": "active", "website": "", "country": "BG",
              "price_position": "cheaper", "strengths": "", "weaknesses": "", "notes": ""}
             for i in range(OTHER_COMPETITORS + 1)],
        )  # fmt: skip
        competitors = db_session.scalars(select(Competitor.id).order_by(Competitor.id)).all()
        db_session.execute(
            insert(competitor_region),
            [{"competitor_id": c, "region_id": r} for c in competitors for r in regions[:3]],
        )
        measured = competitors[0]
        present = rng.sample(client_ids, MEASURED_PRESENCES)
        others = client_ids[::3]
        rows = [(measured, c) for c in present] + [
            (competitors[1 + i % OTHER_COMPETITORS], c) for i, c in enumerate(others)
        ]
        db_session.execute(
            insert(Presence),
            [{"competitor_id": comp, "client_id": c, "share_percent": rng.choice((10, 20, 40)),
              "since": date(2024, 1, 1), "until": date(2025, 1, 1) if rng.random() < 0.1 else None,
              "source": "", "notes": ""} for comp, c in rows],
        )  # fmt: skip
        db_session.execute(
            insert(PresenceGroup),
            [{"presence_id": p, "name": rng.choice(GROUPS)}
             for p in db_session.scalars(select(Presence.id))],
        )  # fmt: skip
        today = date.today()
        changes = [(measured, i) for i in range(MEASURED_CHANGES)] + [
            (c, i) for c in competitors[1:] for i in range(200)
        ]
        db_session.execute(
            insert(Change),
            [{"competitor_id": comp, "kind": KINDS[i % len(KINDS)],
              "occurred_on": (day := today - timedelta(days=(i * 37) % 2900)),
              "quarter": f"{day.year}-Q{(day.month - 1) // 3 + 1}",
              "percent": -5 if i % len(KINDS) == 0 else None,
              "description": f"Move {i} of competitor {comp}", "source": ""}
             for comp, i in changes],
        )  # fmt: skip
        change_ids = db_session.scalars(select(Change.id)).all()
        db_session.execute(
            insert(change_region),
            [{"change_id": c, "region_id": regions[c % 3]} for c in change_ids],
        )
        db_session.execute(
            insert(ChangeGroup), [{"change_id": c, "name": GROUPS[c % 2]} for c in change_ids]
        )
        db_session.commit()
        counts = {
            m.__name__: db_session.scalar(select(func.count()).select_from(m))
            for m in (Client, Competitor, Presence, Change)
        }
    print(f"built in {time.perf_counter() - started:.1f} s: {counts}")


def facts(app) -> dict:
    from crm_competitors.models import Change, Competitor, Presence

    with app.app_context():
        measured = db_session.scalar(select(Competitor.id).order_by(Competitor.id))
        change = db_session.scalar(
            select(Change.id).where(Change.competitor_id == measured, Change.kind == "price_change")
            .order_by(Change.occurred_on.desc())
        )  # fmt: skip
        client = db_session.scalar(
            select(Presence.client_id).where(Presence.competitor_id == measured).limit(1)
        )
        counts = db_session.execute(
            select(
                select(func.count(Presence.id)).where(Presence.competitor_id == measured)
                .scalar_subquery(),
                select(func.count(Change.id)).where(Change.competitor_id == measured)
                .scalar_subquery(),
            )
        ).one()  # fmt: skip
    return {"competitor": measured, "change": change, "client": client, "counts": counts}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--database", type=Path, help="measure a database this bench built before")
    parser.add_argument("--show-sql", action="store_true", help="print each page's SQL")
    args = parser.parse_args()

    folder = args.database.parent if args.database else Path(
        tempfile.mkdtemp(prefix="crm-bench-competitors-")
    )  # fmt: skip
    path = args.database or folder / "bench.sqlite3"
    app = bench_app(folder, path, None if args.database else ["crm_competitors"])
    engine = app.extensions["crm"].engine
    if not args.database:
        build(app, args.clients)
    found = facts(app)
    presences, changes = found["counts"]
    print(f"measured competitor: {presences:,} presences, {changes:,} moves ({path})")

    http = app.test_client()
    http.post("/login", data={"login": "bench", "password": "bench-password"})
    competitor = f"/competitors/{found['competitor']}"
    pages = {
        "page": ("the competitor's page", competitor),
        "filtered": ("its timeline, price changes in North, page 3",
                     f"{competitor}?kind=price_change&region=1&page=3"),
        "change": ("a move's page, who it concerns", f"/competitors/changes/{found['change']}"),
        "recent": ("recent moves of every competitor, a year", "/competitors/changes?days=365"),
        "presences": ("presences at clients, North", "/competitors/presences?region=1"),
        "file": ("client file with its competitors", f"/contacts/clients/{found['client']}"),
    }  # fmt: skip
    statements: list[tuple[str, tuple]] = []

    def record(_conn, _cursor, statement, parameters, _context, executemany):
        if not executemany:
            statements.append((statement, tuple(parameters or ())))

    raw = sqlite3.connect(path)
    print(f"\n{'page':48} {'median':>9} {'CPU':>9} {'SQL':>4} {'raw SQL':>9} {'ratio':>6}")
    for key, (label, url) in pages.items():
        assert http.get(url).status_code == 200, url
        statements.clear()
        event.listen(engine, "before_cursor_execute", record)
        http.get(url)
        event.remove(engine, "before_cursor_execute", record)
        queries = [(sql, params) for sql, params in statements if sql.strip() != "BEGIN"]
        if args.show_sql:
            print(f"--- {label}", *(f"{sql} {params}" for sql, params in queries), sep="\n")
        cpu: list[float] = []
        page_ms = median_ms(lambda _i, url=url: http.get(url), args.requests, cpu=cpu)

        def replay(_i, queries=queries):
            for sql, params in queries:
                raw.execute(sql, params).fetchall()

        raw_ms = median_ms(replay, args.requests)
        verdict = f"  < {TARGET_MS} ms: {'met' if page_ms < TARGET_MS else 'MISSED'}" if (
            key == "page") else ""  # fmt: skip
        print(f"{label:48} {page_ms:7.2f}ms {cpu[0]:7.2f}ms {len(queries):4d} {raw_ms:7.2f}ms "
              f"{page_ms / raw_ms:6.1f}{verdict}")  # fmt: skip
    print(f"\n(re-measure: .venv/bin/python bench/competitors.py --database {path})")


if __name__ == "__main__":
    main()
