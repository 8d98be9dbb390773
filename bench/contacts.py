"""The client file and the client search at 1,000 to 1,000,000 clients, on SQLite or PostgreSQL,
against hand-written SQL of the same content in the same run (issue 18).

Every bundled module installed; ``--clients`` clients written in bulk by ``client_data.build``
(contact persons linked to six contacts each, an open task, a contract with its conditions and
``--lines`` sales lines per client, as the demo has them). Then, through the real WSGI stack
(Flask test client), medians of ``--requests``:

- the client file of clients spread over the database, as the administrator and as a
  representative (record rules on: her clients only), with its number of SQL statements; beside
  it, hand-written SQL that reads the same content (``HAND_FILE``: the client, its children,
  the latest and next contacts with their persons, turnover by month and year so far, tasks,
  contracts and conditions, pricing rules, competitors, advertising, history);
- the client list's first page, and a search by a name fragment and by a phone number, on the
  page and on the JSON API, beside hand-written SQL using the same index (FTS5 on SQLite,
  pg_trgm on PostgreSQL): the count and the page of 50 — for a search of three characters or
  more one statement, the count beside the page's rows, as the page and the API ask for them.

    .venv/bin/python bench/contacts.py --clients 1000            # builds into a new /tmp folder
    .venv/bin/python bench/contacts.py --database /tmp/…/bench.sqlite3      # measures it again
    .venv/bin/python bench/contacts.py --clients 1000000 --search-only      # the search at 1M
    .venv/bin/python bench/contacts.py --database-url postgresql+psycopg://postgres@127.0.0.1/crm_bench

On PostgreSQL the database named must exist; it is built when it has no clients, else measured.

Targets: the client file under 50 ms median at 100,000 clients, its SQL within 5x of the
hand-written SQL (judged on the "replayed" column: both run the same way; the ratio timed inside
the request is printed beside it), flat from 1,000 to 100,000; name and phone search under
15 ms at 100,000 clients (page and API alike), under 50 ms at 1,000,000.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

import client_data
from common import BUNDLED, median_ms
from sqlalchemy import event, inspect, text

from core.app import create_app
from core.modules import init_core, install
from core.plugins import discover

TARGETS = {"file": 50, "search": 15, "list": 50}
SQL_RATIO = 5  # the client file's SQL within 5x of the hand-written SQL of its content
OWN = " AND c.responsible_id = ?"  # a representative's hand-written SQL checks her ownership once
OPEN_TASKS = "('assigned', 'in_progress', 'in_development')"


def hand_file(c: int, group: int | None, region: int | None, rep: int | None) -> list:
    """The client file's content by hand: (SQL, parameters) in ``?`` style."""
    today = date.today()
    year_start, last_year = date(today.year, 1, 1), date(today.year - 1, 1, 1)
    same_day = today.replace(year=today.year - 1) if (today.month, today.day) != (2, 29) else today
    contacts = (
        "SELECT k.id, k.starts_at, k.subject, k.state, ty.name, u.name, p.name FROM (SELECT * "
        "FROM crm_contacts_contact WHERE client_id = ? AND state {} 'scheduled' ORDER BY "
        "starts_at {}, id {} LIMIT {}) k JOIN crm_contacts_contact_type ty ON ty.id = "
        "k.contact_type_id LEFT JOIN core_user u ON u.id = k.user_id LEFT JOIN "
        "crm_contacts_contact_person cp ON cp.contact_id = k.id LEFT JOIN crm_contacts_person p "
        "ON p.id = cp.person_id"
    )
    return [
        ("SELECT c.*, g.name, r.name, u.name FROM crm_contacts_client c LEFT JOIN "
         "crm_contacts_customer_group g ON g.id = c.customer_group_id LEFT JOIN "
         "crm_contacts_region r ON r.id = c.region_id LEFT JOIN core_user u ON "
         "u.id = c.responsible_id WHERE c.id = ?" + (OWN if rep else ""),
         (c, rep) if rep else (c,)),
        ("SELECT t.name FROM crm_contacts_client_tag ct JOIN crm_contacts_tag t ON "
         "t.id = ct.tag_id WHERE ct.client_id = ?", (c,)),
        *((f"SELECT * FROM crm_contacts_{t} WHERE client_id = ?", (c,))
          for t in ("address", "phone", "email", "person", "bank_account")),
        (contacts.format("<>", "DESC", "DESC", 5), (c,)),
        (contacts.format("=", "ASC", "ASC", 3), (c,)),
        ("SELECT count(*) FROM crm_contacts_contact WHERE client_id = ?", (c,)),
        ("SELECT min(date) FROM crm_sales_document WHERE client_id = ?", (c,)),
        ("SELECT month, sum(signed_cents) FROM crm_sales_line WHERE client_id = ? AND date >= ? "
         "GROUP BY month", (c, today - timedelta(days=366))),
        ("SELECT sum(CASE WHEN date >= ? THEN signed_cents ELSE 0 END), sum(CASE WHEN date < ? "
         "THEN signed_cents ELSE 0 END) FROM crm_sales_line WHERE client_id = ? AND date >= ? "
         "AND (date >= ? OR date <= ?)", (year_start, year_start, c, last_year, year_start,
                                          same_day)),
        ("SELECT sum(signed_cents) FROM crm_sales_line WHERE client_id = ? AND date >= ? AND "
         "date < ?", (c, last_year, year_start)),
        ("SELECT t.id, t.title, t.due_date, t.status, ct.name, u.name FROM crm_tasks_task t "
         "LEFT JOIN crm_tasks_commitment_type ct ON ct.id = t.commitment_type_id LEFT JOIN "
         f"core_user u ON u.id = t.assigned_to_id WHERE t.client_id = ? AND t.status IN "
         f"{OPEN_TASKS} ORDER BY t.due_date LIMIT 8", (c,)),
        (f"SELECT count(*) FROM crm_tasks_task WHERE client_id = ? AND status IN {OPEN_TASKS}",
         (c,)),
        ("SELECT ct.name, t.status, count(*) FROM crm_tasks_task t JOIN "
         "crm_tasks_commitment_type ct ON ct.id = t.commitment_type_id WHERE t.client_id = ? "
         "GROUP BY ct.name, t.status", (c,)),
        ("SELECT k.id, k.number, k.title, k.valid_from, k.valid_to, ty.name, cd.kind, "
         "cd.group_name, cd.discount_percent FROM crm_contracts_contract k LEFT JOIN "
         "crm_contracts_type ty ON ty.id = k.type_id LEFT JOIN crm_contracts_condition cd ON "
         "cd.contract_id = k.id WHERE k.client_id = ? AND k.terminated_on IS NULL AND "
         "(k.valid_to IS NULL OR k.valid_to >= ?) ORDER BY k.valid_from DESC", (c, today)),
        ("SELECT count(*) FROM crm_contracts_contract WHERE client_id = ?", (c,)),
        ("SELECT * FROM crm_pricing_rule WHERE active = ? AND (client_id = ? OR (client_id IS "
         "NULL AND customer_group_id = ?) OR (client_id IS NULL AND customer_group_id IS NULL "
         "AND kind = 'crm_pricing.turnover_tiers'))", (True, c, group)),
        ("SELECT p.*, co.name FROM crm_competitors_presence p JOIN crm_competitors_competitor "
         "co ON co.id = p.competitor_id WHERE p.client_id = ? AND (p.until IS NULL OR "
         "p.until >= ?)", (c, today)),
        ("SELECT ch.*, co.name FROM crm_competitors_change ch JOIN crm_competitors_competitor co "
         "ON co.id = ch.competitor_id WHERE ch.id IN (SELECT change_id FROM "
         "crm_competitors_change_region WHERE region_id = ?) OR ch.id NOT IN (SELECT change_id "
         "FROM crm_competitors_change_region) ORDER BY ch.occurred_on DESC LIMIT 5", (region,)),
        ("SELECT m.*, mat.name FROM crm_advertising_movement m JOIN crm_advertising_material mat "
         "ON mat.id = m.material_id WHERE m.client_id = ? ORDER BY m.day DESC, m.id DESC "
         "LIMIT 10", (c,)),
        ("SELECT material_id, sum(client_delta) FROM crm_advertising_movement WHERE "
         "client_id = ? GROUP BY material_id HAVING sum(client_delta) <> 0", (c,)),
        ("SELECT coalesce(sum(client_cost), 0) FROM crm_advertising_movement WHERE client_id = ? "
         "AND day > ?", (c, today - timedelta(days=365))),
        ("SELECT * FROM core_audit_log WHERE model = ? AND record_id = ? ORDER BY at DESC, "
         "id DESC LIMIT 50", ("crm_contacts_client", str(c))),
    ]  # fmt: skip


def hand_search(needle: str | None, fts: bool, rep: int | None) -> list:
    """The list page's content (a search for ``needle``, or every client), by hand, through the
    same index the page has."""
    if needle is None:
        where = ("1 = 1", ())
    elif fts and len(needle) >= 3:
        where = ("c.id IN (SELECT rowid FROM crm_contacts_client_fts WHERE search_text MATCH ?)",
                 ('"' + needle + '"',))  # fmt: skip
    else:
        where = ("c.search_text LIKE ?", (f"%{needle}%",))
    condition, params = where
    # Matches first, then sorted, as the page does (crm_contacts.search.search_order): sorted by
    # walking the name index instead, PostgreSQL read 580,000 rows for 16,230 matches under "P".
    # Every match is then read before the first row, and counted in that read, as the page does.
    trigram = needle is not None and len(needle) >= 3
    if rep:
        condition, params = condition + OWN, (*params, rep)
    joins = ("LEFT JOIN crm_contacts_customer_group g ON g.id = c.customer_group_id LEFT JOIN "
             "crm_contacts_region r ON r.id = c.region_id LEFT JOIN core_user u ON "
             "u.id = c.responsible_id")  # fmt: skip
    if trigram:
        return [
            ("SELECT c.id, c.name, c.status, g.name, r.name, u.name, c.total FROM (SELECT id, "
             "name, status, customer_group_id, region_id, responsible_id, count(*) OVER () AS "
             f"total FROM crm_contacts_client c WHERE {condition} ORDER BY c.id IS NULL, "
             f"c.name, c.id LIMIT 50) c {joins} ORDER BY c.name, c.id", params),
        ]  # fmt: skip
    return [
        (f"SELECT count(*) FROM crm_contacts_client c WHERE {condition}", params),
        (f"SELECT c.id, c.name, c.status, g.name, r.name, u.name FROM crm_contacts_client c "
         f"{joins} WHERE {condition} ORDER BY c.name, c.id LIMIT 50", params),
    ]  # fmt: skip


def open_app(args):
    """The application on the database to measure, built first when it has no clients."""
    plugins = discover()
    folder = Path(tempfile.mkdtemp(prefix="crm-bench-contacts-"))
    if args.database_url:
        url = args.database_url
    else:
        path = args.database or folder / "bench.sqlite3"
        url = f"sqlite:///{path}"
    app = create_app(
        {"DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_PATH": str(folder),
         "TESTING": True, "WTF_CSRF_ENABLED": False},
        plugins=plugins,
    )  # fmt: skip
    engine = app.extensions["crm"].engine
    if not inspect(engine).has_table("crm_contacts_client"):
        init_core(engine, plugins)
        install(engine, plugins, [m for m in BUNDLED if m in plugins and not plugins[m].broken])
    with engine.connect() as connection:
        clients = connection.scalar(text("SELECT count(*) FROM crm_contacts_client"))
    if not clients:
        started = time.perf_counter()
        client_data.build(app, args.clients, lines=args.lines, history=not args.search_only)
        print(f"built {args.clients:,} clients in {time.perf_counter() - started:.0f} s ({url})")
    return app, url


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--lines", type=int, default=50, help="sales lines per client")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--database", type=Path, help="a SQLite file this bench built before")
    parser.add_argument("--database-url", help="a PostgreSQL database (built when empty)")
    parser.add_argument("--search-only", action="store_true", help="clients only; no file")
    args = parser.parse_args()
    app, url = open_app(args)
    engine = app.extensions["crm"].engine
    dialect = engine.dialect.name
    # SQLite's search index, where the migration could make it (PostgreSQL's serves LIKE itself).
    fts = dialect == "sqlite" and inspect(engine).has_table("crm_contacts_client_fts")
    with engine.connect() as connection:
        total = connection.scalar(text("SELECT count(*) FROM crm_contacts_client"))
        rep_id = connection.scalar(text("SELECT id FROM core_user WHERE login = 'rep0'"))
        # About 1,000 clients spread over the ids, and a hundred of the representative's.
        spread = (
            "SELECT id, customer_group_id, region_id, responsible_id, search_text, name "
            "FROM crm_contacts_client WHERE id % :step = 0 AND responsible_id = "
            "coalesce(:rep, responsible_id) ORDER BY id"
        )
        step = max(1, total // 1000)
        rows = connection.execute(text(spread), {"step": step, "rep": None}).all()
        mine = connection.execute(text(spread), {"step": step * 10, "rep": rep_id}).all()
    rng = random.Random(5)
    sample = rng.sample(rows, min(50, len(rows)))
    mine = rng.sample(mine, min(50, len(mine)))
    middle = rows[len(rows) // 2]
    fragment = middle.name.split()[0][1:7].lower()
    phone = next(w for w in middle.search_text.split() if w.startswith("0") and w.isdigit())
    print(f"{total:,} clients ({url}); name fragment “{fragment}”, phone {phone}; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip

    raw = engine.raw_connection()
    marker = "%s" if dialect == "postgresql" else "?"
    for needle in (fragment, middle.name.lower()):
        sql, params = hand_search(needle, fts, None)[0]
        cursor = raw.cursor()
        cursor.execute(sql.replace("?", marker), params)
        print(f"“{needle}” matches {cursor.fetchone()[-1]:,} clients")
    raw.rollback()

    def run_statements(statements) -> None:
        """Statements in the driver's own form (the hand-written SQL, or a page's replayed), one
        after the other on the raw connection, every row read."""
        cursor = raw.cursor()
        for sql, params in statements:
            cursor.execute(sql, params)
            if cursor.description is not None:
                cursor.fetchall()
        raw.rollback()

    http = {}
    for login in ("bench", "rep0"):
        http[login] = app.test_client()
        http[login].post("/login", data={"login": login, "password": "bench-password"})
    counted: list[str] = []
    sql_ms: list[float] = []

    def before(connection, *_args) -> None:
        counted.append(_args[1])
        connection.info["bench_started"] = time.perf_counter()

    def after(connection, *_args) -> None:
        sql_ms[-1] += (time.perf_counter() - connection.info["bench_started"]) * 1000

    captured_pages: list[list[tuple]] = []

    def capture(_connection, _cursor, statement, parameters, *_args) -> None:
        captured_pages[-1].append((statement, parameters))

    def measure(label, who, urls, hand, target) -> None:
        """The page's median (wall and CPU), its statements, the median time of those
        statements in the driver (the page's SQL), and the hand-written SQL's median."""
        client = http[who]
        for u in urls[:3]:
            status = client.get(u).status_code
            assert status == 200, (u, status)
        counted.clear()
        sql_ms.clear()
        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)

        def request(i: int) -> None:
            sql_ms.append(0.0)
            client.get(urls[i % len(urls)])

        cpu: list[float] = []
        try:
            page = median_ms(request, args.requests, cpu=cpu)
        finally:
            event.remove(engine, "before_cursor_execute", before)
            event.remove(engine, "after_cursor_execute", after)
        statements = len(counted) // args.requests
        # In the driver's paramstyle before the clock starts, as a page's statements are.
        hand = [[(sql.replace("?", marker), params) for sql, params in h] for h in hand]
        by_hand = median_ms(lambda i: run_statements(hand[i % len(hand)]), args.requests)
        # The page's statements replayed the way the hand-written SQL runs, one after the other
        # on the same raw connection: what the page asks of the database against what its
        # content needs, alike measured. Timed inside the request, each statement also pays for
        # the CPU caches the request's Python has cooled (docs/performance.md), which the
        # hand-written SQL's loop does not.
        captured_pages.clear()
        event.listen(engine, "before_cursor_execute", capture)
        try:
            for u in urls:
                captured_pages.append([])
                client.get(u)
        finally:
            event.remove(engine, "before_cursor_execute", capture)
        pages = captured_pages
        replayed = median_ms(lambda i: run_statements(pages[i % len(pages)]), args.requests)
        if target is None:
            verdict = "no target"
        else:
            met = "met" if page < TARGETS[target] else "MISSED"
            verdict = f"< {TARGETS[target]} ms: {met}"
        if target == "file":
            # The file's SQL against the hand-written SQL, both run the same way (replayed): in
            # the request, SQLite's statements also pay for the CPU caches the request's Python
            # cools, which no hand-written loop does (docs/performance.md, issue 18).
            met = "met" if replayed < SQL_RATIO * by_hand else "MISSED"
            verdict += f"; SQL < {SQL_RATIO}x hand (replayed): {met}"
        results.append((label, page, cpu[0], statements, statistics.median(sql_ms), by_hand,
                        replayed, verdict))  # fmt: skip

    results: list[tuple] = []
    if total > 100_000:
        TARGETS["search"] = 50  # the target at 1,000,000 clients
    if not args.search_only:
        for who, clients, rep in (("bench", sample, None), ("rep0", mine, rep_id)):
            measure(f"client file, {'administrator' if who == 'bench' else 'representative'}",
                    who, [f"/contacts/clients/{r.id}" for r in clients],
                    [hand_file(r.id, r.customer_group_id, r.region_id, rep) for r in clients],
                    "file")  # fmt: skip
    measure("client list, first page", "bench", ["/contacts/clients"],
            [hand_search(None, fts, None)], "list")  # fmt: skip
    # A fragment of the generated names' few words matches thousands of clients (the count is
    # then most of the work); a client's own name, what a representative types, matches one.
    for label, needle in (("name fragment", fragment), ("client's name", middle.name.lower()),
                          ("phone number", phone)):  # fmt: skip
        hand = [hand_search(needle, fts, None)]
        query = urlencode({"q": needle})
        measure(f"search by a {label}, page", "bench", [f"/contacts/clients?{query}"], hand,
                "search")  # fmt: skip
        measure(f"search by a {label}, JSON API", "bench", [f"/api/v1/clients?{query}"], hand,
                "search")  # fmt: skip
    hand = [hand_search(fragment, fts, rep_id)]
    measure("search by a name fragment, representative, page", "rep0",
            [f"/contacts/clients?q={fragment}"], hand, "search")  # fmt: skip
    # No index serves two letters (trigrams need three): the database reads every client to
    # count the matches, the hand-written SQL as well. Shown for what it costs; the issue's
    # targets are for names and phone numbers.
    measure("search by two letters, page", "bench", ["/contacts/clients?q=" + fragment[:2]],
            [hand_search(fragment[:2], fts, None)], None)  # fmt: skip

    print(f"\n{'page (median)':50} {'wall':>8} {'CPU':>8} {'SQL':>4} {'its SQL':>8} "
          f"{'hand SQL':>8} {'ratio':>6} {'replayed':>8} {'ratio':>6} {'page/hand':>9}"
          "  target")  # fmt: skip
    for label, page, cpu, statements, own, by_hand, replayed, verdict in results:
        print(
            f"{label:50} {page:6.2f}ms {cpu:6.2f}ms {statements:4d} {own:6.2f}ms "
            f"{by_hand:6.2f}ms {own / by_hand:6.1f} {replayed:6.2f}ms {replayed / by_hand:6.1f} "
            f"{page / by_hand:9.1f}  {verdict}"
        )
    print(
        "(its SQL: the page's statements' time in the driver, in the request; replayed: the same"
        "\n statements run one after the other like the hand SQL; ratio: each / hand SQL)"
    )
    if not args.database_url:
        print(f"\n(again: .venv/bin/python bench/contacts.py --database {url[10:]})")


if __name__ == "__main__":
    main()
