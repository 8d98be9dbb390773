"""The client list's added columns and sorting at 100,000 clients, and the import's duplicate check.

Builds a fresh SQLite database with every bundled module, 100,000 clients (an address, a phone, two
contacts each) and this year's sales (three lines for two clients in three), inserted in bulk.
Then, through the real WSGI stack (Flask test client, a logged-in administrator whose chosen
columns are city, phone, last contact and turnover this year), it times the median of the list:
first page, a deep page, sorted by turnover (both ways), by last contact and by city; with the
number of SQL statements and the ratio to raw sqlite3 running the same statements (the page's own
SQL, captured). Last, the duplicate check of the import (``_flag_similar``) on 100,000 new names
against 100,000 existing ones: "Client N" names (numbers differ: never compared) and realistic
company names.

    .venv/bin/python bench/client_columns.py [--clients 100000] [--requests 30]
    .venv/bin/python bench/client_columns.py --database /tmp/crm-bench-columns-…/bench.sqlite3

Targets: the list pages under 50 ms median as in issue 4 (sorted by an added column: under 1 s, a
sort of every client by a computed value); the duplicate check of 100,000 rows under 10 s.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from common import BUNDLED, bench_app, median_ms
from sqlalchemy import event, insert, select

from core.auth import create_user
from core.db import db_session
from core.preferences import set_preference

LIST, TURNOVER = "/contacts/clients", "crm_sales.turnover_year"
COLUMNS = ["city", "phone", "last_contact", TURNOVER]
CITIES = ("Sofia", "Plovdiv", "Varna", "Burgas", "Ruse", "Pleven", "Shumen", "Gabrovo", "Vratsa")


def build(app, clients: int) -> None:
    from crm_contacts.models import Address, Client, Contact, ContactType, Phone
    from crm_sales.models import Product, SalesDocument, SalesLine

    rng = random.Random(13)
    engine = app.extensions["crm"].engine
    year = date.today().year
    started = time.perf_counter()
    with app.app_context():
        create_user(db_session, "bench", "bench-password", "Bench", groups=("admin",))
        db_session.add(Product(code="P1", name="Product", list_price=1))
        db_session.commit()
        kind = db_session.scalar(select(ContactType.id))
        product = db_session.scalar(select(Product.id))
    with engine.begin() as connection:
        connection.execute(insert(Client), [
            {"id": i, "name": f"Company {i:06d}", "search_text": f"company {i:06d}",
             "status": "active", "version": 1} for i in range(1, clients + 1)
        ])  # fmt: skip
        connection.execute(insert(Address), [
            {"client_id": i, "kind": "head_office", "city": rng.choice(CITIES)}
            for i in range(1, clients + 1)
        ])  # fmt: skip
        connection.execute(insert(Phone), [
            {"client_id": i, "kind": "work", "number": f"+359 2 {i:06d}"}
            for i in range(1, clients + 1)
        ])  # fmt: skip
        now = datetime.now(UTC)
        connection.execute(insert(Contact), [
            {"client_id": i, "contact_type_id": kind, "state": "done", "duration_minutes": 30,
             "starts_at": now - timedelta(days=rng.randint(1, 700), minutes=rng.randint(0, 600)),
             "subject": "", "notes": "", "outcome": "", "version": 1, "created_at": now}
            for i in range(1, clients + 1) for _ in range(2)
        ])  # fmt: skip
        buyers = [i for i in range(1, clients + 1) if i % 3]
        connection.execute(insert(SalesDocument), [
            {"id": i, "number": f"I-{i}", "kind": "invoice", "client_id": i,
             "date": date(year, 1, 1), "currency": "EUR", "rate": 1, "checksum": "",
             "created_at": now, "updated_at": now} for i in buyers
        ])  # fmt: skip
        lines = []
        for i in buyers:
            for position in range(3):
                cents = rng.randint(100, 5_000_000)
                day = date(year, 1, 1) + timedelta(days=rng.randint(0, 300))
                lines.append({
                    "document_id": i, "position": position + 1, "product_id": product,
                    "quantity": 1, "unit_price": cents / 100, "discount_percent": 0,
                    "amount": cents / 100, "client_id": i, "date": day, "signed_cents": cents,
                    "signed_quantity": 1, "net_amount": cents / 100, "month": day.strftime("%Y-%m"),
                })  # fmt: skip
        connection.execute(insert(SalesLine), lines)
    with engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")
    print(f"built {clients:,} clients, {len(lines):,} sales lines in "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip


def bench_pages(app, path: Path, clients: int, requests: int) -> None:
    from crm_contacts import client_columns
    from crm_contacts.views.client_list import PER_PAGE

    engine = app.extensions["crm"].engine
    with app.app_context():
        from core.models import User

        bench_id = db_session.scalar(select(User.id).where(User.login == "bench"))
        set_preference(db_session, bench_id, client_columns.PREFERENCE,
                       [*client_columns.DEFAULT, *COLUMNS])  # fmt: skip
        db_session.commit()
    http = app.test_client()
    http.post("/login", data={"login": "bench", "password": "bench-password"})
    deep = clients // PER_PAGE // 2
    pages = [
        ("first page, 9 columns", "/contacts/clients", 50),
        (f"page {deep:,}", f"/contacts/clients?page={deep}", 50),
        ("sorted by turnover this year, biggest first", f"{LIST}?sort=-{TURNOVER}", 1000),
        ("sorted by turnover this year, smallest first", f"{LIST}?sort={TURNOVER}", 1000),
        ("sorted by last contact, latest first", "/contacts/clients?sort=-last_contact", 1000),
        ("sorted by city", "/contacts/clients?sort=city", 1000),
    ]  # fmt: skip
    statements: list[tuple[str, tuple]] = []

    def record(_conn, _cursor, statement, parameters, _context, executemany):
        if not executemany:
            statements.append((statement, tuple(parameters or ())))

    raw = sqlite3.connect(path)
    print(f"\n{'page':50} {'median':>10} {'SQL':>4} {'raw SQL':>10} {'ratio':>6}  target")
    for label, url, target in pages:
        assert http.get(url).status_code == 200, url
        statements.clear()
        event.listen(engine, "before_cursor_execute", record)
        http.get(url)
        event.remove(engine, "before_cursor_execute", record)
        queries = [(sql, params) for sql, params in statements if sql.strip() != "BEGIN"]
        page_ms = median_ms(lambda _i, url=url: http.get(url), requests)

        def replay(_i, queries=queries):
            for sql, params in queries:
                raw.execute(sql, params).fetchall()

        raw_ms = median_ms(replay, requests)
        verdict = "met" if page_ms < target else "MISSED"
        print(f"{label:50} {page_ms:8.2f}ms {len(queries):4d} {raw_ms:8.2f}ms "
              f"{page_ms / raw_ms:6.1f}  < {target} ms: {verdict}")  # fmt: skip


def bench_duplicates(clients: int) -> None:
    from crm_contacts.importing.duplicates import _flag_similar
    from crm_contacts.importing.plan import ImportPlan

    class Draft:
        def __init__(self, row: int, name: str) -> None:
            self.rows, self.data, self.action, self.existing_id = (
                [row],
                {"name": name},
                "create",
                None,
            )

    class Lookups:
        def __init__(self, names: dict[int, str]) -> None:
            self.names = names

    from crm_contacts import demo

    rng = random.Random(5)

    def companies(count: int) -> list[str]:
        """Distinct names as bench/contacts.py makes them: the demo's company name and a city,
        and a number where that name is taken already."""
        names: dict[str, None] = {}
        while len(names) < count:
            name = f"{demo.company_name(rng)} {rng.choice(demo.CITIES)[0]}"
            while name in names:
                name = f"{name} {rng.randint(2, 999)}"
            names[name] = None
        return list(names)

    companies_both = companies(2 * clients)  # the existing ones, then those of the file

    for label, make in (
        ("“Client N” names", lambda i: f"Client {i}"),
        ("company names", lambda i: companies_both[i - 1]),
    ):
        existing = {i: make(i) for i in range(1, clients + 1)}
        new = [Draft(i + 2, make(clients + 1 + i)) for i in range(clients)]
        plan = ImportPlan(key="vat_number")
        started = time.perf_counter()
        _flag_similar(plan, new, Lookups(existing))
        took = time.perf_counter() - started
        print(
            f"duplicate check, {clients:,} new {label} against {clients:,}: {took:.2f} s, "
            f"{len(plan.warnings):,} warnings (< 10 s: {'met' if took < 10 else 'MISSED'})"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--database", type=Path)
    args = parser.parse_args()
    folder = args.database.parent if args.database else Path(
        tempfile.mkdtemp(prefix="crm-bench-columns-")
    )  # fmt: skip
    path = args.database or folder / "bench.sqlite3"
    app = bench_app(folder, path, None if args.database else BUNDLED)
    if not args.database:
        build(app, args.clients)
    bench_pages(app, path, args.clients, args.requests)
    bench_duplicates(args.clients)
    print(f"\n(re-measure the pages: .venv/bin/python bench/client_columns.py --database {path})")


if __name__ == "__main__":
    main()
