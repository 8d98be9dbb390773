"""crm_sales at 5,000,000 invoice lines over 100,000 clients: the client analysis and the turnover
service, against hand-written SQL of the same figures.

Builds its own SQLite database in a temporary folder: the core, crm_contacts and crm_sales
installed through their real migrations, then 100,000 clients, a catalogue of about 300 products in
a group tree, and three calendar years of invoices (5 % credit notes) with payments, written with
sqlite3 ``executemany`` (indexes dropped during the load and created again from their migration
definitions afterwards, as a bulk load does). Then it times, each as a median:

- the client analysis service (``crm_sales.analysis.client_analysis``: months of two years,
  year to date, product groups, top products, days to payment) for many different clients, and
  the analysis page through the real WSGI stack (Flask test client, logged-in manager) with its
  number of SQL statements;
- the turnover service (``crm_sales.turnover``): one client's year, one client's year for a
  product group and its subgroups, one client's quarters;
- the turnover service over the whole installation: every client's year (``turnover_by_client``),
  a customer group's quarters, the installation's quarters over three years;

and the same figures computed by hand-written SQL (sqlite3, ``GROUP BY``), printing the ratios.
The database file is read once before measuring, so that both sides find its pages in the OS
cache.

    .venv/bin/python bench/turnover.py [--clients 100000] [--lines 5000000] [--samples 200]
    .venv/bin/python bench/turnover.py --database /tmp/crm-bench-turnover-…/bench.sqlite3

Targets (issue 7): under 100 ms per client analysis on SQLite; the turnover service within 1.5 times
hand-written SQL of the same figures.
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
from sqlalchemy import event

from core.auth import create_user
from core.db import db_session

TARGET_ANALYSIS_MS = 100
TARGET_RATIO = 1.5
CUSTOMER_GROUPS = 10
TODAY = date.today()
START = date(TODAY.year - 2, 1, 1)


def _defaults(raw: sqlite3.Connection, table: str, given: dict) -> tuple[list[str], list]:
    """Every NOT NULL column of ``table`` without a value in ``given``: a neutral one."""
    columns, values = [], []
    for _cid, name, kind, notnull, default, pk in raw.execute(f"PRAGMA table_info({table})"):
        if pk or name in given:
            continue
        if notnull and default is None:
            kind = (kind or "").upper()
            value = 1 if name == "version" else 0 if "INT" in kind or "BOOL" in kind else ""
            if "DATETIME" in kind or "TIMESTAMP" in kind:
                value = f"{TODAY.isoformat()} 00:00:00.000000"
            columns.append(name)
            values.append(value)
    return columns, values


def build(args, app, path: Path) -> None:
    from crm_contacts.models import CustomerGroup
    from crm_sales.demo import build_catalogue

    with app.app_context():
        create_user(db_session, "bench", "bench-password", groups=("admin",))
        reps = [
            create_user(db_session, f"rep{i}", "bench-password", groups=("sales_rep",)).id
            for i in range(10)
        ]
        db_session.add_all(CustomerGroup(name=f"Bench group {i}") for i in range(CUSTOMER_GROUPS))
        products = build_catalogue(db_session, random.Random(7))
        db_session.commit()
        catalogue = [(p.id, float(p.list_price), p.group_id) for p in products if p.active]
        group_ids = [
            g for (g,) in db_session.execute(
                CustomerGroup.__table__.select().with_only_columns(CustomerGroup.id)
            )
        ]  # fmt: skip

    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute("PRAGMA synchronous=OFF")
    started = time.perf_counter()
    raw.execute("BEGIN")
    client_cols, client_vals = _defaults(
        raw, "crm_contacts_client", {"name", "customer_group_id", "responsible_id", "status"}
    )
    raw.executemany(
        f"INSERT INTO crm_contacts_client (id, name, customer_group_id, responsible_id, status"
        f"{''.join(', ' + c for c in client_cols)}) VALUES (?, ?, ?, ?, 'active'"
        f"{', ?' * len(client_cols)})",
        (
            (i, f"Bench client {i:06d}", group_ids[i % len(group_ids)], reps[i % len(reps)],
             *client_vals)
            for i in range(1, args.clients + 1)
        ),
    )  # fmt: skip
    raw.execute("COMMIT")
    print(f"{args.clients:,} clients in {time.perf_counter() - started:.1f} s")

    # Bulk load: drop the indexes of the three tables, load in (client, date) order, recreate.
    tables = ("crm_sales_document", "crm_sales_line", "crm_sales_payment")
    indexes = raw.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        f"AND tbl_name IN {tables}"
    ).fetchall()
    for name, _sql in indexes:
        raw.execute(f"DROP INDEX {name}")

    started = time.perf_counter()
    rng = random.Random(11)
    per_client = args.lines // args.clients
    extra = args.lines - per_client * args.clients
    span = (TODAY - START).days
    doc_id = line_count = 0
    now = f"{TODAY.isoformat()} 00:00:00.000000"
    raw.execute("BEGIN")
    documents, lines, payments = [], [], []

    def flush() -> None:
        raw.executemany(
            "INSERT INTO crm_sales_document (id, number, kind, client_id, date, due_date, "
            "currency, rate, total, total_local, paid, checksum, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, 'EUR', 1, ?, ?, ?, '', ?, ?)",
            documents,
        )
        raw.executemany(
            "INSERT INTO crm_sales_line (document_id, position, product_id, quantity, "
            "unit_price, discount_percent, amount, client_id, date, group_id, signed_cents, "
            "signed_quantity, net_amount, month, responsible_id) "
            "VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            lines,
        )
        raw.executemany(
            "INSERT INTO crm_sales_payment (document_id, date, amount, days) VALUES (?, ?, ?, ?)",
            payments,
        )
        documents.clear()
        lines.clear()
        payments.clear()

    for client_id in range(1, args.clients + 1):
        rep = reps[client_id % len(reps)]
        count = per_client + (1 if client_id <= extra else 0)
        favourites = rng.sample(catalogue, 12)
        days = sorted(rng.randrange(span + 1) for _ in range(max(1, count // 4)))
        for d, offset in enumerate(days):
            day = START + timedelta(days=offset)
            iso, month = day.isoformat(), day.isoformat()[:7]
            in_doc = count // len(days) + (1 if d < count % len(days) else 0)
            doc_id += 1
            credit = rng.random() < 0.05
            sign = -1 if credit else 1
            total = 0
            for position in range(1, in_doc + 1):
                product_id, price, group_id = favourites[rng.randrange(12)]
                quantity = rng.randint(1, 40)
                cents = round(quantity * price * 100)
                total += cents
                lines.append(
                    (doc_id, position, product_id, quantity, price, cents / 100, client_id, iso,
                     group_id, sign * cents, sign * quantity, sign * cents / 100, month, rep)
                )  # fmt: skip
            line_count += in_doc
            paid_on = day + timedelta(days=rng.randint(5, 70))
            paid = not credit and paid_on <= TODAY
            documents.append(
                (doc_id, f"B{doc_id:09d}", "credit_note" if credit else "invoice", client_id,
                 iso, (day + timedelta(days=30)).isoformat(), total / 100, total / 100,
                 total / 100 if paid else 0, now, now)
            )  # fmt: skip
            if paid:
                payments.append((doc_id, paid_on.isoformat(), total / 100, (paid_on - day).days))
        if len(lines) > 200_000:
            flush()
    flush()
    raw.execute("COMMIT")
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    for _name, sql in indexes:
        raw.execute(sql)
    indexed = time.perf_counter() - started
    size = path.stat().st_size / 1e9
    print(
        f"{line_count:,} lines in {doc_id:,} documents loaded in {loaded:.1f} s, indexes built "
        f"in {indexed:.1f} s; database {size:.2f} GB"
    )
    raw.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--lines", type=int, default=5_000_000)
    parser.add_argument("--samples", type=int, default=200, help="clients measured per figure")
    parser.add_argument("--database", type=Path, help="measure on a database built before")
    parser.add_argument(
        "--import-documents", type=int, default=20_000, help="documents of the CSV import timed"
    )
    args = parser.parse_args()
    folder = (
        args.database.parent
        if args.database
        else Path(tempfile.mkdtemp(prefix="crm-bench-turnover-"))
    )
    path = args.database or folder / "bench.sqlite3"
    app = bench_app(folder, path, None if args.database else ["crm_sales"], CURRENCY="EUR")
    engine = app.extensions["crm"].engine
    if not args.database:
        build(args, app, path)

    from crm_sales.analysis import client_analysis, same_day_last_year
    from crm_sales.turnover import turnover, turnover_by_client, turnover_by_period

    # The database file once through the OS cache, so that whichever side runs first does not
    # read from disk the pages the other then finds cached (neither SQLite cache is warmed).
    with path.open("rb") as whole_file:
        while whole_file.read(1 << 24):
            pass
    raw = sqlite3.connect(path)
    clients = raw.execute("SELECT COUNT(*) FROM crm_contacts_client").fetchone()[0]
    lines = raw.execute("SELECT MAX(id) FROM crm_sales_line").fetchone()[0]
    print(f"\n{lines:,} lines, {clients:,} clients in {path}")
    sample = random.Random(5).sample(range(1, clients + 1), min(args.samples, clients))
    n = len(sample)
    year = TODAY.year
    last = (date(year - 1, 1, 1), date(year - 1, 12, 31))
    top_group = raw.execute(
        "SELECT id FROM crm_sales_product_group WHERE parent_id IS NULL ORDER BY id LIMIT 1"
    ).fetchone()[0]
    plan = raw.execute(
        "EXPLAIN QUERY PLAN SELECT SUM(signed_cents) FROM crm_sales_line "
        "WHERE client_id = ? AND date BETWEEN ? AND ?",
        (1, *map(str, last)),
    ).fetchall()
    print("plan of one client's turnover:", "; ".join(row[-1] for row in plan))

    results: list[tuple[str, float, float | None, str]] = []

    # --- the client analysis ----------------------------------------------------------------
    with app.app_context():
        service = median_ms(lambda i: client_analysis(db_session, sample[i % n], year), n)
        db_session.rollback()

    def raw_analysis(i: int) -> None:
        c = sample[i % n]
        y0, y1 = f"{year - 1}-01-01", f"{year}-12-31"
        jan = f"{year}-01-01"
        raw.execute(
            "SELECT CAST(strftime('%Y', date) AS INTEGER), CAST(strftime('%m', date) AS INTEGER),"
            " SUM(signed_cents) FROM crm_sales_line WHERE client_id = ? AND date BETWEEN ? AND ?"
            " GROUP BY 1, 2", (c, y0, y1)).fetchall()  # fmt: skip
        # This year runs: last year's figures stop at the same day (crm_sales.analysis).
        before = same_day_last_year(TODAY).isoformat()
        end = TODAY.isoformat()
        raw.execute(
            "SELECT SUM(CASE WHEN date >= ? THEN signed_cents ELSE 0 END), "
            "SUM(CASE WHEN date >= ? THEN 0 ELSE signed_cents END) FROM crm_sales_line "
            "WHERE client_id = ? AND date BETWEEN ? AND ? AND (date >= ? OR date <= ?)",
            (jan, jan, c, y0, end, jan, before)).fetchall()  # fmt: skip
        raw.execute(
            "SELECT group_id, SUM(CASE WHEN date >= ? THEN signed_cents ELSE 0 END), "
            "SUM(CASE WHEN date >= ? THEN 0 ELSE signed_cents END) FROM crm_sales_line "
            "WHERE client_id = ? AND date BETWEEN ? AND ? AND (date >= ? OR date <= ?) "
            "GROUP BY group_id", (jan, jan, c, y0, end, jan, before)).fetchall()  # fmt: skip
        raw.execute("SELECT id, name, path FROM crm_sales_product_group").fetchall()
        top = raw.execute(
            "SELECT product_id, SUM(signed_cents) FROM crm_sales_line WHERE client_id = ? AND "
            "date BETWEEN ? AND ? GROUP BY product_id ORDER BY 2 DESC, 1 LIMIT 10",
            (c, jan, end)).fetchall()  # fmt: skip
        ids = [t[0] for t in top] or [0]
        marks = ",".join("?" * len(ids))
        raw.execute(
            f"SELECT product_id, SUM(signed_cents) FROM crm_sales_line WHERE client_id = ? AND "
            f"date >= ? AND date < ? AND date <= ? AND product_id IN ({marks}) "
            "GROUP BY product_id", (c, y0, jan, before, *ids)).fetchall()  # fmt: skip
        raw.execute(f"SELECT id, code, name FROM crm_sales_product WHERE id IN ({marks})",
                    ids).fetchall()  # fmt: skip
        raw.execute(
            "SELECT SUM(p.amount * p.days), SUM(p.amount) FROM crm_sales_payment p JOIN "
            "crm_sales_document d ON p.document_id = d.id WHERE d.client_id = ? AND "
            "d.kind = 'invoice' AND d.date BETWEEN ? AND ?", (c, y0, y1)).fetchall()  # fmt: skip

    hand = median_ms(raw_analysis, n)
    results.append(("client analysis (service, 8 queries)", service, hand,
                    f"< {TARGET_ANALYSIS_MS} ms"))  # fmt: skip

    http = app.test_client()
    http.post("/login", data={"login": "bench", "password": "bench-password"})
    http.get(f"/sales/clients/{sample[0]}/analysis")
    statements: list[str] = []

    def record(*args):
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    response = http.get(f"/sales/clients/{sample[0]}/analysis")
    event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200, response.status_code
    page = median_ms(lambda i: http.get(f"/sales/clients/{sample[i % n]}/analysis"), min(n, 100))
    results.append((f"client analysis page (HTTP, {len(statements)} SQL statements)", page, hand,
                    f"< {TARGET_ANALYSIS_MS} ms"))  # fmt: skip

    # --- the turnover service, per client ----------------------------------------------------
    start, end = last
    with app.app_context():
        one = median_ms(lambda i: turnover(db_session, [sample[i % n]], start, end), n)
        grouped = median_ms(
            lambda i: turnover(db_session, [sample[i % n]], start, end, [top_group]), n
        )
        quarters = median_ms(
            lambda i: turnover_by_period(db_session, [sample[i % n]], start, end, "quarter"), n
        )
        db_session.rollback()
    s, e = start.isoformat(), end.isoformat()
    raw_one = median_ms(lambda i: raw.execute(
        "SELECT SUM(signed_cents) FROM crm_sales_line WHERE client_id = ? AND date BETWEEN ? AND ?",
        (sample[i % n], s, e)).fetchall(), n)  # fmt: skip
    raw_grouped = median_ms(lambda i: raw.execute(
        "SELECT SUM(signed_cents) FROM crm_sales_line WHERE client_id = ? AND date BETWEEN ? AND ? "
        "AND group_id IN (SELECT g.id FROM crm_sales_product_group g JOIN crm_sales_product_group a"
        " ON g.path LIKE a.path || '%' WHERE a.id = ?)",
        (sample[i % n], s, e, top_group)).fetchall(), n)  # fmt: skip
    raw_quarters = median_ms(lambda i: raw.execute(
        "SELECT CAST(strftime('%Y', date) AS INTEGER), CAST(strftime('%m', date) AS INTEGER), "
        "SUM(signed_cents) FROM crm_sales_line "
        "WHERE client_id = ? AND date BETWEEN ? AND ? GROUP BY 1, 2",
        (sample[i % n], s, e)).fetchall(), n)  # fmt: skip
    results += [
        ("turnover of one client, one year", one, raw_one, ""),
        ("turnover of one client, one year, a group and subgroups", grouped, raw_grouped, ""),
        ("turnover of one client by quarter", quarters, raw_quarters, ""),
    ]

    # --- the turnover service over the installation -----------------------------------------
    # Seconds per run, on a machine shared with other work: service and hand-written SQL
    # alternate, and the best of five runs of each is compared.
    every_sql = (
        "SELECT client_id, SUM(signed_cents) FROM crm_sales_line WHERE date BETWEEN ? AND ? "
        "GROUP BY client_id"
    )
    months_sql = (
        "SELECT CAST(strftime('%Y', date) AS INTEGER), CAST(strftime('%m', date) AS INTEGER), "
        "SUM(signed_cents) FROM crm_sales_line WHERE {} date BETWEEN ? AND ? GROUP BY 1, 2"
    )
    cgroup_sql = months_sql.format(
        "client_id IN (SELECT id FROM crm_contacts_client WHERE customer_group_id = 1) AND"
    )
    whole = (START.isoformat(), TODAY.isoformat())
    with app.app_context():
        pairs = {
            f"every client's turnover of {start.year} ({clients:,} clients)": (
                lambda: turnover_by_client(db_session, None, start, end),
                lambda: raw.execute(every_sql, (s, e)).fetchall(),
            ),
            f"a customer group's quarters of {start.year}": (
                lambda: turnover_by_period(
                    db_session, None, start, end, "quarter", customer_group_id=1
                ),
                lambda: raw.execute(cgroup_sql, (s, e)).fetchall(),
            ),
            "the installation's quarters since " + START.isoformat(): (
                lambda: turnover_by_period(db_session, None, START, TODAY, "quarter"),
                lambda: raw.execute(months_sql.format(""), whole).fetchall(),
            ),
        }
        for label, (service_fn, raw_fn) in pairs.items():
            times: tuple[list[float], list[float]] = ([], [])
            for _ in range(5):
                for fn, bucket in ((service_fn, times[0]), (raw_fn, times[1])):
                    started = time.perf_counter()
                    fn()
                    bucket.append((time.perf_counter() - started) * 1000)
            results.append((label, min(times[0]), min(times[1]), ""))
        db_session.rollback()

    title = "figure (median; installation-wide: best of 5)"
    print(f"\n{title:64} {'service':>10} {'hand SQL':>10} {'ratio':>6}  target")
    for label, ms, hand_ms, target in results:
        ratio = ms / hand_ms if hand_ms else float("nan")
        verdict = ""
        if target:
            verdict = f"{target}: {'met' if ms < TARGET_ANALYSIS_MS else 'MISSED'}"
        else:
            verdict = f"ratio < {TARGET_RATIO}: {'met' if ratio < TARGET_RATIO else 'MISSED'}"
        print(f"{label:64} {ms:8.3f}ms {hand_ms:8.3f}ms {ratio:6.2f}  {verdict}")
    if args.import_documents:
        measure_import(app, args.import_documents, clients)
    print(f"\n(re-measure: .venv/bin/python bench/turnover.py --database {path})")


def measure_import(app, documents: int, clients: int) -> None:
    """The CSV import (crm sales import's code) of ``documents`` documents of 4 lines and a
    payment each, then the same file again (nothing may be written); then they are deleted."""
    from sqlalchemy import delete, select

    from crm_sales.importing import apply_import, plan_import
    from crm_sales.models import Payment, Product, SalesDocument, SalesLine

    rng = random.Random(3)
    with app.app_context():
        codes = list(db_session.scalars(select(Product.code).where(Product.active.is_(True))))
    rows = ["number,kind,date,client_id,product_code,quantity,unit_price,payment_date,"
            "payment_amount"]  # fmt: skip
    for d in range(documents):
        day = START + timedelta(days=rng.randrange((TODAY - START).days - 60))
        head = f"IMP-{d:07d},invoice,{day},{rng.randint(1, clients)}"
        for _ in range(4):
            rows.append(
                f"{head},{rng.choice(codes)},{rng.randint(1, 20)},{rng.randint(1, 50)}.50,,"
            )
        rows.append(f"{head},,,,{day + timedelta(days=30)},10.00")
    content = "\n".join(rows).encode()
    with app.app_context():
        started = time.perf_counter()
        plan = plan_import(db_session, content)
        checked = time.perf_counter() - started
        assert plan.valid, [str(e) for e in plan.errors[:5]]
        result = apply_import(db_session, plan.documents)
        db_session.commit()
        total = time.perf_counter() - started
        started = time.perf_counter()
        again = apply_import(db_session, plan_import(db_session, content).documents)
        db_session.commit()
        repeat = time.perf_counter() - started
        assert not again.created and not again.replaced
        ids = select(SalesDocument.id).where(SalesDocument.number.startswith("IMP-"))
        db_session.execute(delete(Payment).where(Payment.document_id.in_(ids)))
        db_session.execute(delete(SalesLine).where(SalesLine.document_id.in_(ids)))
        db_session.execute(delete(SalesDocument).where(SalesDocument.number.startswith("IMP-")))
        db_session.commit()
    print(
        f"\nCSV import of {documents:,} documents ({len(rows) - 1:,} rows): {total:.1f} s "
        f"(checking {checked:.1f} s, writing {total - checked:.1f} s; {result}); "
        f"the same file again: {repeat:.1f} s, {again}"
    )


if __name__ == "__main__":
    main()
