"""crm_contacts at 100,000 clients: the CSV import, then the pages a representative opens.

(The client file and the search at 1,000 to 1,000,000 clients, with contact persons linked to
contacts, tasks, contracts and sales lines, on SQLite and PostgreSQL: ``bench/contacts.py``.)

Generates a CSV of 100,000 clients with their contact persons (valid VAT and phone numbers, as the
demo data, and a valid IBAN for one client in three), imports it into a fresh SQLite database
through ``crm_contacts.importing`` (the code behind the import page and ``crm contacts import``) and
prints the time; imports it again (nothing may change). Then, through the real WSGI stack (Flask
test client, a logged-in administrator), it times the median of: the client list (first page and a
deep page), a search by a name fragment, a search by a phone number, and the client file of a client
with several persons and 300 contacts; with the number of SQL statements each request issues, and
the ratio to raw sqlite3 running the same statements (the page's own SQL, captured, so the same
rows): what the framework, the ORM and the templates add to the database's work.

    .venv/bin/python bench/contacts_import.py [--clients 100000] [--requests 100] [--skip-reimport]
    .venv/bin/python bench/contacts_import.py --database /tmp/crm-bench-contacts-…/bench.sqlite3

Targets (issue 4): import under 60 s; list and search pages under 50 ms median; client file under
100 ms median.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import sqlite3
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from common import BUNDLED, bench_app, median_ms
from sqlalchemy import event, func, select

from core.auth import create_user
from core.db import db_session
from core.models import utcnow
from core.modules import installed_modules

TARGETS_MS = {"list": 50, "search": 50, "file": 100}


def generate_csv(clients: int, reps: list[str], seed: int = 100) -> tuple[str, dict]:
    """A CSV of ``clients`` clients, 0 to 3 contact persons each (one row per person), a bank
    account for one client in three, and what the bench needs to know of it: counts, and the VAT
    number of a client with three persons."""
    from crm_contacts import demo
    from crm_contacts.importing import COLUMNS

    rng = random.Random(seed)
    # Its own generator: the clients and persons stay those of a file without bank accounts.
    bank_rng = random.Random(seed + 1)
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\n")
    writer.writeheader()
    names: set[str] = set()
    vats: set[str] = set()
    rows = persons = accounts = 0
    facts: dict = {}
    for index in range(clients):
        city, postal_code, area = demo.CITIES[index % len(demo.CITIES)]
        name = f"{demo.company_name(rng)} {city}"
        while name in names:
            name = f"{demo.company_name(rng)} {city}"
            if name in names:
                name = f"{name} {rng.randint(2, 999)}"
        names.add(name)
        vat = demo.bg_vat(rng)
        while vat in vats:
            vat = demo.bg_vat(rng)
        vats.add(vat)
        phone = demo.bg_landline(rng, area)
        client = {
            "name": name,
            "kind": "company",
            "legal_name": f"{name} {rng.choice(demo.LEGAL_FORMS)}",
            "vat_number": vat,
            "country": "BG",
            "customer_group": rng.choice(("Wholesale", "Retail", "Distributor", "Key account")),
            "responsible": reps[index % len(reps)],
            "status": rng.choice(("active", "active", "prospect", "inactive")),
            "tags": "; ".join(rng.sample(demo.TAGS, rng.randint(0, 2))),
            "website": f"https://www.{demo.slug(name)}.bg",
            "payment_term_days": str(rng.choice((0, 15, 30, 45, 60))),
            "invoice_remarks": rng.choice(demo.REMARKS),
            "goods_description": rng.choice(demo.GOODS),
            "document_language": "bg",
            "street": f"{rng.choice(demo.STREETS)} {rng.randint(1, 120)}",
            "city": city,
            "postal_code": postal_code,
            "phone": phone,
            "email": f"office@{demo.slug(name)}.bg",
        }
        if index % 3 == 0:
            client["iban"], client["bic"], client["bank_name"] = demo.bg_iban(bank_rng)
            accounts += 1
        count = rng.choice((0, 1, 1, 2, 2, 3))
        if count == 3 and "file" not in facts:
            facts["file"] = vat
        if count == 0:
            writer.writerow(client)
            rows += 1
        for _ in range(count):
            full_name = demo.person_name(rng)
            first, last = full_name.split(" ", 1)
            writer.writerow(
                {
                    **client,
                    "person_name": full_name,
                    "person_position": rng.choice(demo.POSITIONS),
                    "person_phone": demo.bg_mobile(rng),
                    "person_email": f"{demo.slug(first)}.{demo.slug(last)}@{demo.slug(name)}.bg",
                }
            )
            rows += 1
            persons += 1
    facts.update(rows=rows, persons=persons, accounts=accounts)
    return out.getvalue(), facts


def build(args, app, folder: Path) -> None:
    """A fresh database: users, then the generated CSV imported (timed), then imported again."""
    from crm_contacts.importing import apply_import, plan_import
    from crm_contacts.models import Client, Contact, ContactType

    with app.app_context():
        create_user(db_session, "bench", "bench-password", groups=("admin",))
        for login in ("maria", "peter"):
            create_user(db_session, login, "bench-password", groups=("sales_rep",))
        db_session.commit()

    started = time.perf_counter()
    content, facts = generate_csv(args.clients, ["maria", "peter"])
    csv_path = folder / "clients.csv"
    csv_path.write_text(content, encoding="utf-8")
    print(
        f"generated {args.clients} clients, {facts['persons']} persons, "
        f"{facts['accounts']} bank accounts, {facts['rows']} rows "
        f"({csv_path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s"
    )

    data = csv_path.read_bytes()
    with app.app_context():
        started = time.perf_counter()
        plan = plan_import(db_session, data)
        checked = time.perf_counter() - started
        assert plan.valid, [str(e) for e in plan.errors[:10]]
        result = apply_import(db_session, plan)
        db_session.commit()
        import_s = time.perf_counter() - started
    print(
        f"IMPORT of {args.clients} clients: {import_s:.1f} s (checking {checked:.1f} s, writing "
        f"{import_s - checked:.1f} s); {result.created} created, {result.persons} persons, "
        f"{len(plan.warnings)} possible-duplicate warnings "
        f"[target < 60 s: {'met' if import_s < 60 else 'MISSED'}]"
    )
    if not args.skip_reimport:
        with app.app_context():
            started = time.perf_counter()
            again = plan_import(db_session, data)
            reimport_s = time.perf_counter() - started
            assert again.valid and not again.creates and not again.updates, "not a no-op"
        print(
            f"re-import of the same file: {reimport_s:.1f} s, {again.unchanged} unchanged, "
            "nothing to write"
        )

    # The client file's client: several persons, and a history of 300 contacts.
    with app.app_context():
        file_id = db_session.scalar(select(Client.id).where(Client.vat_number == facts["file"]))
        rep = db_session.scalar(select(Client.responsible_id).where(Client.id == file_id))
        types = db_session.scalars(select(ContactType)).all()
        now = utcnow()
        for i in range(300):
            db_session.add(
                Contact(client_id=file_id, user_id=rep, contact_type=types[i % len(types)],
                        state="done", starts_at=now - timedelta(days=i), duration_minutes=30,
                        subject=f"Contact {i}", notes="Notes of the contact.")
            )  # fmt: skip
        db_session.commit()


def find_facts(app) -> dict:
    """What the pages are measured with, read from the database: a name fragment and a phone of
    a client in the middle of the list, and the client with the most contacts."""
    from crm_contacts.models import Client, Contact, Phone

    with app.app_context():
        total = db_session.scalar(select(func.count()).select_from(Client))
        middle = db_session.execute(
            select(Client.id, Client.name).order_by(Client.id).offset(total // 2).limit(1)
        ).one()
        number = db_session.scalar(
            select(Phone.number).where(Phone.client_id == middle.id, Phone.person_id.is_(None))
        )
        file_id = db_session.scalar(
            select(Contact.client_id)
            .group_by(Contact.client_id)
            .order_by(func.count().desc())
            .limit(1)
        )
    from crm_contacts.validation import format_phone

    national = "0" + "".join(c for c in format_phone(number).split(" ", 1)[1] if c.isdigit())
    return {
        "total": total,
        "fragment": middle.name.split()[0][2:8].lower(),
        "phone": national,
        "file": file_id,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--skip-reimport", action="store_true")
    parser.add_argument(
        "--database", type=Path, help="measure the pages on a database this bench built before"
    )
    parser.add_argument("--show-sql", action="store_true", help="print each page's SQL")
    args = parser.parse_args()

    folder = args.database.parent if args.database else Path(
        tempfile.mkdtemp(prefix="crm-bench-contacts-")
    )  # fmt: skip
    path = args.database or folder / "bench.sqlite3"
    app = bench_app(folder, path, None if args.database else BUNDLED)
    engine = app.extensions["crm"].engine
    if not args.database:
        with engine.connect() as connection:
            print(f"modules installed: {', '.join(installed_modules(connection))}")
        build(args, app, folder)
    facts = find_facts(app)
    total, file_id = facts["total"], facts["file"]
    print(f"{total} clients in the database ({path}); client file: #{file_id}")

    http = app.test_client()
    http.post("/login", data={"login": "bench", "password": "bench-password"})
    try:
        from crm_contacts.views.client_list import PER_PAGE as per_page
    except ImportError:  # the list page is not there (yet)
        per_page = 50
    deep = total // per_page // 2
    pages = {
        "list": ("client list, first page", "/contacts/clients"),
        "deep": (f"client list, page {deep:,} (OFFSET {(deep - 1) * per_page:,})",
                 f"/contacts/clients?page={deep}"),
        "search": (f"search by a name fragment “{facts['fragment']}”",
                   f"/contacts/clients?q={facts['fragment']}"),
        "phone": (f"search by a phone number {facts['phone']}",
                  f"/contacts/clients?q={facts['phone']}"),
        "file": ("client file (persons, 300 contacts)", f"/contacts/clients/{file_id}"),
    }  # fmt: skip
    statements: list[tuple[str, tuple]] = []

    def record(_conn, _cursor, statement, parameters, _context, executemany):
        if not executemany:
            statements.append((statement, tuple(parameters or ())))

    # "Raw": the page's own SQL statements (the same rows), run by sqlite3 without the framework.
    raw = sqlite3.connect(path)
    results = []
    for key, (label, url) in pages.items():
        response = http.get(url)
        if response.status_code != 200:
            print(f"{label}: {url} answers {response.status_code}: page missing, not measured")
            results.append((key, label, None, None, None))
            continue
        statements.clear()
        event.listen(engine, "before_cursor_execute", record)
        http.get(url)
        event.remove(engine, "before_cursor_execute", record)
        queries = [(sql, params) for sql, params in statements if sql.strip() != "BEGIN"]
        if args.show_sql:
            print(f"--- {label}", *(f"{sql} {params}" for sql, params in queries), sep="\n")
        page_ms = median_ms(lambda _i, url=url: http.get(url), args.requests)

        def replay(_i, queries=queries):
            for sql, params in queries:
                raw.execute(sql, params).fetchall()

        raw_ms = median_ms(replay, args.requests)
        results.append((key, label, page_ms, len(statements), raw_ms))

    print(f"\n{'page':58} {'median':>9} {'SQL':>4} {'raw SQL':>9} {'ratio':>6}  target")
    for key, label, page_ms, count, raw_ms in results:
        if page_ms is None:
            print(f"{label:58} {'missing':>9}")
            continue
        target = TARGETS_MS["file" if key == "file" else "search" if key in ("search", "phone")
                            else "list"]  # fmt: skip
        verdict = "met" if page_ms < target else "MISSED"
        print(
            f"{label:58} {page_ms:7.2f}ms {count:4d} {raw_ms:7.2f}ms {page_ms / raw_ms:6.1f}  "
            f"< {target} ms: {verdict}"
        )
    print(f"\n(re-measure the pages: .venv/bin/python bench/contacts_import.py --database {path})")


if __name__ == "__main__":
    main()
