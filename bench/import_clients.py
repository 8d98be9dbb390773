"""The CSV import of 100,000 clients: time and peak memory, then the re-check of the same file.

Generates the CSV of ``bench/contacts_import.py`` (valid VAT and phone numbers, 0 to 3 contact
persons a client, one in three with a bank account: 166,534 rows, 66 MB at 100,000 clients), then,
each in a new process so that its peak resident memory is its own (as `crm contacts import`):

1. the import into a fresh SQLite database with every bundled module installed (``run_import``,
   as ``crm contacts import`` and the import job: the file read as a stream, checked and written a
   chunk at a time, in one transaction);
2. the re-check of the same file against the database now holding it (nothing to write);

and prints the time (wall and CPU) and the peak RSS of each, against the targets of issue 18:
import under 40 s and 300 MB, re-check under 20 s. Beside them, the baseline RSS of a process that
only created the application, and the same work written by hand for ``sqlite3``
(``executemany`` of the clients, persons, phones, emails, addresses and bank accounts; no
validation) as the floor.

    .venv/bin/python bench/import_clients.py [--clients 100000]
    .venv/bin/python bench/import_clients.py --database-url postgresql+psycopg://postgres@127.0.0.1/crm_bench_import
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import BUNDLED, bench_app

HERE = Path(__file__).resolve().parent


def _rss_mb() -> float:
    """This process's peak resident memory. Not ``getrusage``'s ``ru_maxrss``: Linux keeps it
    across ``execve``, so a child would report its parent's peak (the generated CSV's)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Descendants(threading.Thread):
    """The processes this one starts to validate (crm_contacts.importing.parallel: a forkserver
    and its workers), watched from /proc every 0.2 s: their CPU time and peak resident memory,
    which ``getrusage`` does not report (the workers are the forkserver's children, and it is not
    waited for)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.seen: dict[int, tuple[float, float]] = {}  # pid: (CPU seconds, peak RSS MB)
        self.running = True
        self.start()

    def run(self) -> None:
        tick = os.sysconf("SC_CLK_TCK")
        while self.running:
            parents = {os.getpid()}
            for entry in sorted(
                Path("/proc").iterdir(), key=lambda p: int(p.name) if p.name.isdigit() else 0
            ):
                if not entry.name.isdigit():
                    continue
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                    if int(fields[1]) not in parents:
                        continue
                    parents.add(int(entry.name))
                    hwm = next(int(line.split()[1]) for line in (entry / "status").read_text()
                               .splitlines() if line.startswith("VmHWM:"))  # fmt: skip
                except (OSError, StopIteration, IndexError):
                    continue
                self.seen[int(entry.name)] = (
                    (int(fields[11]) + int(fields[12])) / tick,
                    hwm / 1024,
                )
            time.sleep(0.2)

    def stop(self) -> None:
        self.running = False
        self.join()

    def cpu(self) -> float:
        return sum(cpu for cpu, _ in self.seen.values())

    def peak_mb(self) -> float:
        return max((rss for _, rss in self.seen.values()), default=0.0)


def child(args) -> None:
    """One measured step, in its own process: prints one JSON line."""
    from core.db import db_session
    from crm_contacts.importing import run_import

    config = {"DATABASE_URL": args.database_url} if args.database_url else {}
    app = bench_app(Path(args.folder), Path(args.folder) / "bench.sqlite3", None, **config)
    baseline = _rss_mb()
    watch = Descendants()
    with app.app_context(), Path(args.csv).open("rb") as stream:
        wall, cpu = time.perf_counter(), time.process_time()
        # As `crm contacts import` and the import job: the file read as a stream, checked and
        # written a chunk at a time, in one transaction.
        plan = run_import(db_session, stream, write=args.step == "import")
        assert plan.valid, [str(e) for e in plan.errors[:5]]
        if args.step == "import":
            db_session.commit()
        else:
            assert not plan.created and not plan.updated, "the re-check found work to do"
            db_session.rollback()
        total = time.perf_counter() - wall
        used = time.process_time() - cpu
    watch.stop()
    print(json.dumps({"wall": total, "cpu": used, "rss": _rss_mb(), "baseline": baseline,
                      "created": plan.created, "warnings": len(plan.warnings),
                      "children_cpu": watch.cpu(), "children_rss": watch.peak_mb()}))  # fmt: skip


def run_child(args, step: str, folder: Path, csv_path: Path) -> dict:
    command = [sys.executable, str(HERE / "import_clients.py"), "--child", step,
               "--folder", str(folder), "--csv", str(csv_path)]  # fmt: skip
    if args.database_url:
        command += ["--database-url", args.database_url]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def hand_sql(csv_path: Path, folder: Path) -> float:
    """The floor: the file's clients and persons inserted by hand with ``sqlite3``."""
    import csv
    import sqlite3

    started = time.perf_counter()
    db = sqlite3.connect(folder / "hand.sqlite3")
    db.execute("CREATE TABLE client (id INTEGER PRIMARY KEY, name TEXT, vat TEXT UNIQUE)")
    db.execute("CREATE TABLE person (id INTEGER PRIMARY KEY, client_id INT, name TEXT, phone TEXT)")
    clients: dict[str, int] = {}
    persons = []
    with csv_path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            key = row["vat_number"] or row["name"]
            if key not in clients:
                clients[key] = len(clients) + 1
            if row["person_name"]:
                persons.append((clients[key], row["person_name"], row["person_phone"]))
    db.executemany("INSERT INTO client (id, name, vat) VALUES (?, ?, ?)",
                   ((i, k, k) for k, i in clients.items()))  # fmt: skip
    db.executemany("INSERT INTO person (client_id, name, phone) VALUES (?, ?, ?)", persons)
    db.commit()
    db.close()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--child", choices=("import", "recheck"))
    parser.add_argument("--folder")
    parser.add_argument("--csv")
    args = parser.parse_args()
    if args.child:
        args.step = args.child
        child(args)
        return

    from contacts_import import generate_csv

    from core.auth import create_user
    from core.db import db_session

    folder = Path(tempfile.mkdtemp(prefix="crm-bench-import-"))
    config = {"DATABASE_URL": args.database_url} if args.database_url else {}
    app = bench_app(folder, folder / "bench.sqlite3", BUNDLED, **config)
    with app.app_context():
        for login in ("maria", "peter"):
            create_user(db_session, login, "bench-password", groups=("sales_rep",))
        db_session.commit()
        content, facts = generate_csv(args.clients, ["maria", "peter"])
    csv_path = folder / "clients.csv"
    csv_path.write_text(content, encoding="utf-8")
    del content
    size = csv_path.stat().st_size / 1e6
    print(f"{args.clients} clients, {facts['rows']} rows, {size:.1f} MB; database "
          f"{args.database_url or folder / 'bench.sqlite3'}")  # fmt: skip

    first = run_child(args, "import", folder, csv_path)
    print(
        f"IMPORT: {first['wall']:.1f} s wall, {first['cpu']:.1f} s CPU (and "
        f"{first['children_cpu']:.1f} s in the validating processes, each at most "
        f"{first['children_rss']:.0f} MB); peak RSS {first['rss']:.0f} MB (the application alone "
        f"{first['baseline']:.0f} MB); {first['created']} clients created, {first['warnings']} "
        f"possible duplicates [targets < 40 s: {'met' if first['wall'] < 40 else 'MISSED'}, "
        f"< 300 MB: {'met' if first['rss'] < 300 else 'MISSED'}]"
    )
    again = run_child(args, "recheck", folder, csv_path)
    print(
        f"RE-CHECK of the same file: {again['wall']:.1f} s wall, {again['cpu']:.1f} s CPU; peak "
        f"RSS {again['rss']:.0f} MB [target < 20 s: {'met' if again['wall'] < 20 else 'MISSED'}]"
    )
    if not args.database_url:
        floor = hand_sql(csv_path, folder)
        print(f"hand-written sqlite3 (clients and persons only, no checks): {floor:.1f} s; "
              f"ratio {first['wall'] / floor:.0f}")  # fmt: skip


if __name__ == "__main__":
    main()
