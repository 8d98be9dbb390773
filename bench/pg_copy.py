"""The turnover bench's data on PostgreSQL: copied from its SQLite file with COPY.

Generating five million lines again row by row through INSERTs would take far longer on
PostgreSQL than the SQLite load; the same rows are copied instead. The small tables (users, customer
groups, the catalogue) are made on PostgreSQL by the same ORM steps as on SQLite, in the same
order, so their ids are the same (checked before anything is copied); clients, documents, lines
and payments are then streamed from the SQLite file by COPY, with the foreign-key triggers off for
the load (``session_replication_role = replica``: the rows come from a database that checked
them), the id sequences moved past the copied ids, and the tables analysed.
"""

from __future__ import annotations

import random
import sqlite3
import time
from pathlib import Path

import psycopg

from core.auth import create_user
from core.db import db_session

BIG = ("crm_contacts_client", "crm_sales_document", "crm_sales_line", "crm_sales_payment")
SMALL = {
    "core_user": "login",
    "crm_contacts_customer_group": "name",
    "crm_sales_product_group": "code",
    "crm_sales_product": "code",
}


def conninfo(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def is_loaded(url: str) -> bool:
    with psycopg.connect(conninfo(url)) as pg:
        found = pg.execute("SELECT to_regclass('crm_sales_line')").fetchone()[0]
        return (
            found is not None
            and pg.execute("SELECT EXISTS (SELECT 1 FROM crm_sales_line)").fetchone()[0]
        )


def make_small_tables(app) -> None:
    """What turnover.build makes through the ORM, in the same order, and the manager."""
    from crm_contacts.models import CustomerGroup
    from crm_sales.demo import build_catalogue

    with app.app_context():
        create_user(db_session, "bench", "bench-password", groups=("admin",))
        for i in range(10):
            create_user(db_session, f"rep{i}", "bench-password", groups=("sales_rep",))
        db_session.add_all(CustomerGroup(name=f"Bench group {i}") for i in range(10))
        build_catalogue(db_session, random.Random(7))
        db_session.commit()
        create_user(db_session, "manager", "bench-password", groups=("sales_manager",))
        db_session.commit()


def copy(sqlite_path: Path, url: str) -> None:
    source = sqlite3.connect(sqlite_path)
    with psycopg.connect(conninfo(url)) as pg:
        for table, name in SMALL.items():
            query = f"SELECT id, {name} FROM {table} ORDER BY id"
            theirs = source.execute(query).fetchall()
            ours = pg.execute(query).fetchall()
            assert [tuple(r) for r in ours] == theirs, f"{table}: ids differ from the SQLite file"
        pg.execute("SET session_replication_role = replica")
        for table in BIG:
            started = time.perf_counter()
            columns = [
                r[0]
                for r in pg.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                    "ORDER BY ordinal_position",
                    (table,),
                )
            ]
            names = ", ".join(columns)
            rows = source.execute(f"SELECT {names} FROM {table} ORDER BY id")
            with pg.cursor().copy(f"COPY {table} ({names}) FROM STDIN") as out:
                while chunk := rows.fetchmany(50_000):
                    for row in chunk:
                        out.write_row(row)
            pg.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT MAX(id) FROM {table}))"
            )
            pg.commit()
            print(f"{table} copied in {time.perf_counter() - started:.1f} s")
        pg.execute("SET session_replication_role = DEFAULT")
        pg.commit()
        pg.autocommit = True
        for table in BIG:
            pg.execute(f"ANALYZE {table}")
