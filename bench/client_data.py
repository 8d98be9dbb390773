"""Clients with everything the client file shows, written in bulk for the benches
(``bench/contacts.py``): on SQLite or PostgreSQL alike, through SQLAlchemy Core.

Per client, as the demo data has them: a head office, a phone and an email; one to three contact
persons, each with a mobile; six contacts in its history (one scheduled ahead), each with one of
the persons linked; an open task about one person; a contract in force with two conditions; and
``lines`` sales lines in invoices of four lines. Names, VAT and phone numbers come from the
demo's generators, and ``search_text`` from the function the import uses, so searches find what
they would find in a real installation. With ``history=False`` only the clients are written
(with a head office, a phone and persons' names in their search text): the search bench's
million clients.

The big tables' indexes are dropped while loading and built again afterwards, from the models'
own definitions, as a bulk load does.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, func, select, text

from core.auth import create_user
from core.db import db_session

CHUNK = 5_000  # clients per transaction
REPS = 10


def build(app, clients: int, *, lines: int = 50, history: bool = True, seed: int = 18) -> None:
    """``clients`` clients with their file's content, in the database of ``app``."""
    from crm_contacts import demo
    from crm_contacts.models import (
        Address,
        Client,
        Contact,
        ContactType,
        CustomerGroup,
        Email,
        Person,
        Phone,
        Region,
        contact_person,
    )  # fmt: skip
    from crm_contacts.search import search_text_of

    with app.app_context():
        create_user(db_session, "bench", "bench-password", groups=("admin",))
        reps = [
            create_user(db_session, f"rep{i}", "bench-password", groups=("sales_rep",)).id
            for i in range(REPS)
        ]
        if not db_session.scalar(select(func.count()).select_from(CustomerGroup)):
            db_session.add_all(CustomerGroup(name=n) for n in ("Wholesale", "Retail", "Key"))
        db_session.add_all(Region(name=f"Bench region {i}", order=i) for i in range(5))
        extra = _catalogue_and_types() if history else {}
        db_session.commit()
        groups = list(db_session.scalars(select(CustomerGroup.id)))
        regions = list(db_session.scalars(select(Region.id)))
        contact_types = list(db_session.scalars(select(ContactType.id)))

    engine: Engine = app.extensions["crm"].engine
    # In the order their foreign keys need.
    tables = [Client, Address, Person, Phone, Email]
    if history:
        from crm_contracts.models import Condition, Contract
        from crm_sales.models import SalesDocument, SalesLine
        from crm_tasks.models import Task

        tables += [Contact, Task, Contract, Condition, SalesDocument, SalesLine]
    tables = [t.__table__ for t in tables] + ([contact_person] if history else [])
    indexes = [index for table in tables for index in table.indexes]
    with engine.begin() as connection:
        for index in indexes:
            connection.execute(text(f"DROP INDEX IF EXISTS {index.name}"))

    rng = random.Random(seed)
    today = date.today()
    now = datetime.now(UTC)
    started = time.perf_counter()
    ids = dict.fromkeys(("person", "contact", "document", "line", "contract"), 0)
    names: set[str] = set()
    for first in range(0, clients, CHUNK):
        batch: dict[str, list[dict]] = {t.name: [] for t in tables}
        for client_id in range(first + 1, min(first + CHUNK, clients) + 1):
            city, postal_code, area = demo.CITIES[client_id % len(demo.CITIES)]
            name = f"{demo.company_name(rng)} {city}"
            if name in names:
                name = f"{name} {client_id}"
            names.add(name)
            vat = demo.bg_vat(rng)
            rep = reps[client_id % len(reps)]
            # E.164, as the phone fields store numbers.
            landline = demo.bg_landline(rng, area).replace(" ", "")
            persons = [demo.person_name(rng) for _ in range(rng.choice((1, 2, 2, 3, 3)))]
            mobiles = [demo.bg_mobile(rng).replace(" ", "") for _ in persons]
            email = f"office@{demo.slug(name)}.bg"
            batch["crm_contacts_client"].append({
                "id": client_id, "name": name, "legal_name": f"{name} Ltd", "vat_number": vat,
                "kind": "company", "country": "BG", "status": "active", "responsible_id": rep,
                "customer_group_id": groups[client_id % len(groups)],
                "region_id": regions[client_id % len(regions)], "payment_term_days": 30,
                "search_text": search_text_of((name, f"{name} Ltd", vat, ""), (city,),
                                              (landline, *mobiles), (email,), persons),
                "created_at": now, "version": 1,
            })  # fmt: skip
            batch["crm_contacts_address"].append(
                {"client_id": client_id, "kind": "head_office", "city": city,
                 "postal_code": postal_code, "street": rng.choice(demo.STREETS), "country": "BG"}
            )  # fmt: skip
            batch["crm_contacts_phone"].append(
                {"client_id": client_id, "person_id": None, "kind": "work", "number": landline}
            )
            batch["crm_contacts_email"].append(
                {"client_id": client_id, "person_id": None, "kind": "work", "address": email}
            )
            person_ids = []
            for index, (person, mobile) in enumerate(zip(persons, mobiles, strict=True)):
                ids["person"] += 1
                person_ids.append(ids["person"])
                batch["crm_contacts_person"].append(
                    {"id": ids["person"], "client_id": client_id, "name": person,
                     "position": rng.choice(demo.POSITIONS), "is_primary": index == 0,
                     "version": 1}
                )  # fmt: skip
                batch["crm_contacts_phone"].append(
                    {"client_id": client_id, "person_id": ids["person"], "kind": "mobile",
                     "number": mobile}
                )  # fmt: skip
            if history:
                _history(batch, ids, extra, rng, client_id, rep, person_ids, contact_types,
                         lines, today, now)  # fmt: skip
        with engine.begin() as connection:
            for table in tables:
                if batch[table.name]:
                    connection.execute(table.insert(), batch[table.name])
        done = min(first + CHUNK, clients)
        if done % 50_000 == 0 or done == clients:
            print(f"  {done:,} clients written in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    with engine.begin() as connection:
        for index in indexes:
            index.create(connection, checkfirst=True)
    if engine.dialect.name == "postgresql":
        # VACUUM (outside a transaction) sets the visibility map as well as the statistics: an
        # exact count(*) of a million clients then reads the index alone (67 ms → about 20 ms),
        # as it does in a database autovacuum has visited.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    print(f"  indexes built in {time.perf_counter() - started:.0f} s")


def _catalogue_and_types() -> dict:
    """The demo catalogue (about 300 products in groups), and the types the rows refer to."""
    from crm_contracts.models import ContractType
    from crm_sales.demo import build_catalogue
    from crm_tasks.models import CommitmentType

    products = build_catalogue(db_session, random.Random(7))
    db_session.flush()
    return {
        "products": [(p.id, float(p.list_price), p.group_id) for p in products if p.active],
        "commitment": db_session.scalar(select(CommitmentType.id).limit(1)),
        "contract_type": db_session.scalar(select(ContractType.id).limit(1)),
        "groups": [(g.id, g.code, g.name) for g in {p.group for p in products}],
    }


def _history(batch, ids, extra, rng, client_id, rep, person_ids, contact_types, lines, today,
             now) -> None:  # fmt: skip
    for n in range(6):
        ids["contact"] += 1
        scheduled = n == 5
        starts = now + timedelta(days=7) if scheduled else now - timedelta(days=30 * n + 1)
        batch["crm_contacts_contact"].append(
            {"id": ids["contact"], "client_id": client_id, "user_id": rep,
             "contact_type_id": contact_types[n % len(contact_types)],
             "state": "scheduled" if scheduled else "done", "starts_at": starts,
             "duration_minutes": 45, "subject": f"Visit {n}", "notes": "Talked about the range.",
             "outcome": "", "created_at": now, "version": 1}
        )  # fmt: skip
        batch["crm_contacts_contact_person"].append(
            {"contact_id": ids["contact"], "person_id": person_ids[n % len(person_ids)]}
        )
    batch["crm_tasks_task"].append(
        {"client_id": client_id, "person_id": person_ids[0], "title": "Send the new price list",
         "commitment_type_id": extra["commitment"], "assigned_to_id": rep,
         "assigned_by_id": rep, "due_date": today + timedelta(days=10), "status": "assigned",
         "priority": "normal", "status_changed_at": now, "created_at": now, "version": 1}
    )  # fmt: skip
    ids["contract"] += 1
    batch["crm_contracts_contract"].append(
        {"id": ids["contract"], "number": f"B-{ids['contract']:07d}", "client_id": client_id,
         "title": "Framework agreement", "type_id": extra["contract_type"],
         "signed_on": today - timedelta(days=200), "valid_from": today - timedelta(days=180),
         "valid_to": today + timedelta(days=185), "currency": "EUR", "responsible_id": rep,
         "created_at": now, "version": 1}
    )  # fmt: skip
    for _group_id, code, name in rng.sample(extra["groups"], 2):
        batch["crm_contracts_condition"].append(
            {"contract_id": ids["contract"], "kind": "discount", "group_code": code,
             "group_name": name, "discount_percent": 3, "version": 1}
        )  # fmt: skip
    products = rng.sample(extra["products"], 12)
    for d in range(max(1, lines // 4)):
        ids["document"] += 1
        day = today - timedelta(days=rng.randrange(730))
        in_doc = min(4, lines - 4 * d) if lines >= 4 else lines
        total = 0
        for position in range(1, in_doc + 1):
            product_id, price, group_id = products[rng.randrange(12)]
            quantity = rng.randint(1, 40)
            cents = round(quantity * price * 100)
            total += cents
            ids["line"] += 1
            batch["crm_sales_line"].append(
                {"id": ids["line"], "document_id": ids["document"], "position": position,
                 "product_id": product_id, "quantity": quantity, "unit_price": price,
                 "discount_percent": 0, "amount": cents / 100, "client_id": client_id,
                 "date": day, "group_id": group_id, "signed_cents": cents,
                 "signed_quantity": quantity, "net_amount": cents / 100,
                 "month": day.isoformat()[:7], "responsible_id": rep}
            )  # fmt: skip
        batch["crm_sales_document"].append(
            {"id": ids["document"], "number": f"B{ids['document']:09d}", "kind": "invoice",
             "client_id": client_id, "date": day, "due_date": day + timedelta(days=30),
             "currency": "EUR", "rate": 1, "total": total / 100, "total_local": total / 100,
             "paid": 0, "checksum": "", "created_at": now, "updated_at": now}
        )  # fmt: skip
