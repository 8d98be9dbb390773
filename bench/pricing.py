"""crm_pricing on demo data at scale: a single quote, and the full price list of one client over a
catalogue of 10,000 products.

Builds a fresh SQLite database with every bundled module installed, runs ``crm demo --scale N``
(clients, invoices of two years, the demo pricing policy: turnover tiers, quantity breaks, early
payment, a customer-group discount and cap, an exclusive seasonal promotion, a group-purchase rule,
fixed client prices; and crm_contracts' conditions when it is there), then fills the catalogue up to
``--products`` active products (bulk insert, spread over the demo product groups, 400 distinct list
prices). The client measured is the demo client with the most rules concerning it.

Prints the medians of: one quote through the engine (a pricing run: client, rules, caps, group
tree, turnover; then the line), one quote through the whole stack (``POST /api/v1/pricing/quote``
with a logged-in user), the full price list computed by ``crm_pricing.service.price_list``, and the
CSV export of it through the stack; the number of SQL statements of each, and the ratio of the
price-list time to a raw sqlite3 fetch of the same product rows (the price list's own product
query, captured); then the XLSX and PDF exports through the stack (median of 5, CPU time beside)
with the process's resident memory before each and its peak while answering it.

    .venv/bin/python bench/pricing.py [--scale 2] [--products 10000] [--repeat 30]

Targets (issue 8): a single quote under 5 ms median; the price list of 10,000 products under
300 ms, with a number of SQL statements that does not grow with the number of products. Issue 18:
its XLSX under 1 s, its PDF under 2 s, each adding under 100 MB to the process's memory.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner
from common import BUNDLED, bench_app, median_ms
from flask.cli import ScriptInfo
from sqlalchemy import event, func, insert, select

from core.auth import create_user
from core.cli import main as crm
from core.db import db_session
from core.modules import installed_modules

TARGET_QUOTE_MS = 5
TARGET_LIST_MS = 300


TARGET_EXPORT_MS = {"xlsx": 1000, "pdf": 2000}
TARGET_EXPORT_MB = 100

CPU: list[float] = []
EXPORT_CPU: list[float] = []


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def rss_of(http, url: str) -> tuple[float, float]:
    """The resident memory of a process about to answer ``GET url`` and its peak while answering
    it, in MB: measured in a child forked for the purpose, so that memory the exports measured
    before left behind (Python keeps freed memory) hides nothing. Linux only: writing 5 to
    ``clear_refs`` resets the peak, ``VmHWM``, to the current size."""
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child: one export, its figures down the pipe, and out
        try:
            before = _status_mb("VmRSS")
            with open("/proc/self/clear_refs", "w") as clear:
                clear.write("5")
            http.get(url).get_data()
            os.write(write, f"{before} {_status_mb('VmHWM')}".encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as answer:
        figures = answer.read().split()
    os.waitpid(child, 0)
    if len(figures) != 2:
        return float("nan"), float("nan")
    return float(figures[0]), float(figures[1])


class Counter:
    """The SQL statements run on ``engine`` while it is on (``BEGIN`` excluded)."""

    def __init__(self, engine) -> None:
        self.engine, self.statements = engine, []

    def _record(self, _conn, _cursor, statement, parameters, _context, executemany):
        if statement.strip() != "BEGIN":
            self.statements.append((statement, parameters, executemany))

    def __enter__(self):
        self.statements = []
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_):
        event.remove(self.engine, "before_cursor_execute", self._record)


def fill_catalogue(app, products: int) -> int:
    from crm_sales.models import Product, ProductGroup

    rng = random.Random(8)
    with app.app_context():
        have = db_session.scalar(
            select(func.count()).select_from(Product).where(Product.active.is_(True))
        )
        groups = db_session.scalars(select(ProductGroup.id).order_by(ProductGroup.id)).all()
        prices = [Decimal(rng.randint(50, 50000)) / 100 for _ in range(400)]
        rows = [
            {"code": f"BENCH-{i:06d}", "name": f"Bench product {i:06d}", "unit": "pcs",
             "list_price": rng.choice(prices), "currency": "EUR",
             "group_id": groups[i % len(groups)] if groups else None, "active": True, "version": 1}
            for i in range(max(products - have, 0))
        ]  # fmt: skip
        if rows:
            db_session.execute(insert(Product), rows)
        db_session.commit()
        return db_session.scalar(
            select(func.count()).select_from(Product).where(Product.active.is_(True))
        )


def busiest_client(app) -> int:
    """The demo client most rules concern: its own rules, then its group's."""
    from crm_contacts.models import Client
    from crm_pricing.models import PricingRule

    with app.app_context():
        own = (
            select(PricingRule.client_id, func.count().label("n"))
            .where(PricingRule.client_id.is_not(None))
            .group_by(PricingRule.client_id)
            .order_by(func.count().desc(), PricingRule.client_id)
            .limit(1)
        )
        row = db_session.execute(own).first()
        if row is not None:
            return row.client_id
        return db_session.scalar(select(Client.id).order_by(Client.id))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=2)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="crm-bench-pricing-"))
    path = folder / "bench.sqlite3"
    app = bench_app(folder, path, BUNDLED)
    engine = app.extensions["crm"].engine
    with engine.connect() as connection:
        print(f"modules installed: {', '.join(installed_modules(connection))}")
    started = time.perf_counter()
    result = CliRunner().invoke(
        crm, ["demo", "--scale", str(args.scale)], obj=ScriptInfo(create_app=lambda: app)
    )
    assert result.exit_code == 0, result.output
    print(f"crm demo --scale {args.scale}: {time.perf_counter() - started:.1f} s")
    total = fill_catalogue(app, args.products)
    client_id = busiest_client(app)

    from crm_pricing.models import PricingRule
    from crm_pricing.service import PricingRun, load_products, price_list
    from crm_sales.models import Product, SalesLine

    with app.app_context():
        rules = db_session.scalar(select(func.count()).select_from(PricingRule))
        lines = db_session.scalar(select(func.count()).select_from(SalesLine))
        product = db_session.execute(
            select(Product.id, Product.code).order_by(Product.id).limit(1)
        ).one()
        create_user(db_session, "bench", "bench-password", groups=("admin",))
        db_session.commit()
    print(f"{total:,} active products, {rules} pricing rules, {lines:,} sales lines; "
          f"client #{client_id}; database {path}")  # fmt: skip
    today = date.today()

    # --- one quote through the engine: a pricing run (loads everything once) and one line
    with app.app_context():

        def quote(_i: int = 0):
            run = PricingRun(db_session, client_id, today)
            (row,) = load_products(db_session, ids=[product.id])
            run.price(row, Decimal(100), 10)
            db_session.rollback()

        quote()
        with Counter(engine) as counted:
            quote()
        quote_sql = len(counted.statements)
        quote_ms = median_ms(quote, args.repeat * 5, cpu=CPU)

    # --- one quote through the stack
    http = app.test_client()
    http.post("/login", data={"login": "bench", "password": "bench-password"})
    body = {"client_id": client_id, "product_id": product.id, "quantity": 100, "payment_days": 10}
    answer = http.post("/api/v1/pricing/quote", json=body)
    assert answer.status_code == 200, answer.get_json()
    with Counter(engine) as counted:
        http.post("/api/v1/pricing/quote", json=body)
    api_sql = len(counted.statements)
    api_ms = median_ms(
        lambda _i: http.post("/api/v1/pricing/quote", json=body), args.repeat * 5, cpu=CPU
    )

    # --- the full price list, in process and as the CSV export through the stack
    with app.app_context():

        def full_list(_i: int = 0):
            run, priced = price_list(db_session, client_id, today)
            db_session.rollback()
            return priced

        priced = full_list()
        assert len(priced) == total
        with Counter(engine) as counted:
            full_list()
        list_sql = len(counted.statements)
        product_sql = next(
            (s, p) for s, p, _ in counted.statements if "FROM crm_sales_product " in s
            and "LIMIT" not in s and "crm_pricing_rule" not in s
        )  # fmt: skip
        list_ms = median_ms(full_list, args.repeat, cpu=CPU)
    url = f"/pricing/clients/{client_id}/price-list.csv"
    assert http.get(url).status_code == 200
    with Counter(engine) as counted:
        http.get(url)
    csv_sql = len(counted.statements)
    csv_ms = median_ms(lambda _i: http.get(url), max(args.repeat // 3, 5), cpu=CPU)

    exports = []
    for fmt in ("xlsx", "pdf"):
        url = f"/pricing/clients/{client_id}/price-list.{fmt}"
        memory = rss_of(http, url)  # first: in a process that has not exported before
        answer = http.get(url)
        assert answer.status_code == 200, answer.status_code
        ms = median_ms(lambda _i, url=url: http.get(url).get_data(), 5, cpu=EXPORT_CPU)
        exports.append((fmt, ms, EXPORT_CPU[-1], len(answer.data), *memory))

    raw = sqlite3.connect(path)
    raw_ms = median_ms(lambda _i: raw.execute(*product_sql).fetchall(), args.repeat, cpu=CPU)

    def verdict(ms, target):
        return f"< {target} ms: {'met' if ms < target else 'MISSED'}"

    quote_cpu, api_cpu, list_cpu, csv_cpu, raw_cpu = CPU
    rows = [
        ("one quote, engine (pricing run + one line)", quote_ms, quote_cpu, quote_sql,
         verdict(quote_ms, TARGET_QUOTE_MS)),
        ("one quote, POST /api/v1/pricing/quote (whole stack)", api_ms, api_cpu, api_sql, ""),
        (f"price list of {total:,} products (service.price_list)", list_ms, list_cpu, list_sql,
         verdict(list_ms, TARGET_LIST_MS)),
        ("the same as CSV, GET …/price-list.csv (whole stack)", csv_ms, csv_cpu, csv_sql, ""),
        ("raw sqlite3 fetch of the same product rows", raw_ms, raw_cpu, 1, ""),
    ]  # fmt: skip
    print(f"\n{'measure':56} {'median':>10} {'CPU':>10} {'SQL':>4}  target (on the median)")
    for label, wall, cpu, sql, target in rows:
        print(f"{label:56} {wall:8.2f}ms {cpu:8.2f}ms {sql:4d}  {target}")
    print(f"\n{'export through the whole stack':32} {'median':>10} {'CPU':>10} {'size':>9} "
          f"{'RSS before':>11} {'peak':>8} {'added':>8}  target")  # fmt: skip
    for fmt, ms, cpu, size, before, peak in exports:
        target = TARGET_EXPORT_MS[fmt]
        met = "met" if ms < target and peak - before < TARGET_EXPORT_MB else "MISSED"
        print(f"GET …/price-list.{fmt:27} {ms:8.1f}ms {cpu:8.1f}ms {size / 1024:7.0f}KB "
              f"{before:9.0f}MB {peak:6.0f}MB {peak - before:6.0f}MB  < {target} ms and "
              f"< {TARGET_EXPORT_MB} MB added: {met}")  # fmt: skip
    print(
        f"\nprice list / raw fetch of its product rows: {list_ms / raw_ms:.1f}x "
        f"(CPU: {list_cpu / raw_cpu:.1f}x); load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
