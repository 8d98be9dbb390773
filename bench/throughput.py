"""Throughput per worker: gunicorn on PostgreSQL with the demo data, a logged-in load generator on
loopback, and a trivial WSGI app on the same machine as the ceiling.

    .venv/bin/python bench/throughput.py [--workers 4,1] [--duration 10] [--connections 16]
    .venv/bin/python bench/throughput.py --database-url postgresql+psycopg://postgres@127.0.0.1/db

A fresh database on ``--server`` (every module, ``crm demo``), unless ``--database-url`` names one
built before. For each number of workers, gunicorn (sync workers) on a free loopback port, and for
``--duration`` seconds each: the client file, the client list, the quote API (``POST
/api/v1/pricing/quote`` with an API token) and a static file, as ``--user`` (maria, a sales
representative: her record rules apply), then ``bench/trivial_wsgi.py`` under the same gunicorn.
The load generator is ``--processes`` processes of threads, one HTTP/1.1 connection per request
(gunicorn's sync workers close it), bounded by the duration however slow the server.

Printed per page: requests answered 200 per second, per worker, and per second of the workers'
CPU time (what one worker serves when it has a core to itself, the figure to compare on a shared
machine), latency p50/p95/p99, other answers, and the database transactions the static file cost
(from ``pg_stat_database``). The load average is printed with the figures: the load generator and
PostgreSQL share the same two cores.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

from load import BIN, ROOT, Browser, crm, free_port, percentile
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

TARGETS = {"client file": 25, "client list": 60, "quote API": 100}
TICKS = os.sysconf("SC_CLK_TCK")


def raw_request(port: int, method: str, path: str, headers: dict[str, str], body: bytes = b""):
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def hit(port: int, request: bytes) -> int:
    """One request on a new connection; its status (0 when the connection failed)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
            connection.sendall(request)
            first = connection.recv(65536)
            while connection.recv(65536):
                pass
    except OSError:
        return 0
    return int(first[9:12]) if first[:5] == b"HTTP/" else 0


def _generator(port: int, request: bytes, threads: int, deadline: float, results) -> None:
    """One process of the load generator: ``threads`` loops until ``deadline``."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def loop() -> None:
        mine, seen = [], Counter()
        while time.monotonic() < deadline:
            started = time.perf_counter()
            status = hit(port, request)
            mine.append((time.perf_counter() - started) * 1000)
            seen[status] += 1
        with lock:
            latencies.extend(mine)
            statuses.update(seen)

    started_cpu = time.process_time()
    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    results.put((latencies, dict(statuses), time.process_time() - started_cpu))


def workers_cpu(master: int) -> float:
    """CPU seconds used so far by the gunicorn workers of ``master`` (its children)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:  # ppid; utime and stime follow at 14 and 15 (1-based)
            total += int(fields[11]) + int(fields[12])
    return total / TICKS


def measure(port, master, request, args) -> dict:
    """Load ``request`` for ``args.duration`` seconds; the figures of the run."""
    for _ in range(3 * args.workers_now):  # every worker's first request builds its state
        hit(port, request)
    results = multiprocessing.Queue()
    per_process = max(1, args.connections // args.processes)
    cpu_before, started = workers_cpu(master), time.monotonic()
    deadline = started + args.duration
    processes = [
        multiprocessing.Process(
            target=_generator, args=(port, request, per_process, deadline, results)
        )
        for _ in range(args.processes)
    ]
    for process in processes:
        process.start()
    collected = [results.get(timeout=args.duration + 120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    elapsed = time.monotonic() - started
    server_cpu = workers_cpu(master) - cpu_before
    latencies = [ms for part in collected for ms in part[0]]
    statuses: Counter[int] = Counter()
    for part in collected:
        statuses.update(part[1])
    count = statuses.get(200, 0)  # a redirect to the login page or an error is no page served
    return {
        "requests": count,
        "rps": count / elapsed,
        "per_cpu_second": count / server_cpu if server_cpu else float("nan"),
        "server_cpu": server_cpu,
        "client_cpu": sum(part[2] for part in collected),
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "p99": percentile(latencies, 99),
        "other": {s: n for s, n in statuses.items() if s != 200},
        "load": os.getloadavg()[0],
    }


STATS_DELAY = 11  # seconds: PostgreSQL's PGSTAT_IDLE_INTERVAL, and one more


def start_gunicorn(env: dict[str, str], workers: int, app: str, extra: list[str]):
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
         "--timeout", "60", "--log-level", "warning", *extra, app],
        env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read()  # noqa: S310
            break
        except urllib.error.HTTPError:
            break  # it answers
        except OSError:
            time.sleep(0.1)
    return server, port


def stop(server) -> str:
    server.terminate()
    try:
        return server.communicate(timeout=30)[1]
    except subprocess.TimeoutExpired:
        server.kill()
        return server.communicate()[1]


def api_token(browser: Browser) -> str:
    """A new API token of the logged-in user, created on the tokens page as a user would."""
    _status, form = browser.get("/account/tokens")
    csrf = re.search(rb'name="csrf_token" value="([^"]+)"', form)
    data = urllib.parse.urlencode(
        {"name": "throughput bench", **({"csrf_token": csrf.group(1).decode()} if csrf else {})}
    ).encode()
    request = urllib.request.Request(browser.base + "/account/tokens", data=data, method="POST")  # noqa: S310
    with browser.opener.open(request, timeout=60) as answer:
        page = answer.read().decode()
    return re.search(r'id="token-value" value="([^"]+)"', page).group(1)


def scenarios(browser: Browser, port: int) -> dict[str, bytes]:
    cookie = "; ".join(f"{c.name}={c.value}" for c in browser.jar)
    _s, body = browser.get("/api/v1/clients?per_page=1")
    client = json.loads(body)["items"][0]["id"]
    _s, body = browser.get("/api/v1/sales/products?per_page=1")
    product = json.loads(body)["items"][0]["id"]
    _s, page = browser.get("/contacts/clients")
    static = re.search(rb'href="(/static/crm\.css[^"]*)"', page).group(1).decode()
    token = api_token(browser)
    quote = json.dumps({"client_id": client, "product_id": product, "quantity": 100,
                        "payment_days": 10}).encode()  # fmt: skip
    # flask-login's strong session protection ties the session to the browser's User-Agent.
    session = {"Cookie": cookie, **dict(browser.opener.addheaders)}
    bearer = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    return {
        "client file": raw_request(port, "GET", f"/contacts/clients/{client}", session),
        "client list": raw_request(port, "GET", "/contacts/clients", session),
        "quote API": raw_request(port, "POST", "/api/v1/pricing/quote", bearer, quote),
        f"static file ({static.split('?')[0]})": raw_request(port, "GET", static, {}),
    }


def transactions(engine, name: str) -> int:
    with engine.connect() as connection:
        return connection.execute(
            text("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = :n"),
            {"n": name},
        ).scalar_one()


def report(rows: list[tuple[int, str, dict]]) -> None:
    print(f"\n{'workers':>7}  {'page':34} {'req/s':>7} {'/worker':>8} {'/CPU-s':>7} {'p50':>7} "
          f"{'p95':>7} {'p99':>7}  {'load':>4}  not 200 / target")  # fmt: skip
    for workers, page, r in rows:
        target = next((t for name, t in TARGETS.items() if page.startswith(name)), None)
        verdict = ""
        if target is not None:
            met = r["rps"] / workers >= target
            verdict = f"≥ {target}/worker: {'met' if met else 'MISSED'}"
            verdict += f" (CPU: {'met' if r['per_cpu_second'] >= target else 'MISSED'})"
        if "transactions" in r:
            verdict = f"{r['transactions']} database transactions"
        other = ",".join(f"{s}×{n}" for s, n in sorted(r["other"].items())) or "-"
        print(f"{workers:>7}  {page:34} {r['rps']:7.1f} {r['rps'] / workers:8.1f} "
              f"{r['per_cpu_second']:7.1f} {r['p50']:6.1f}ms {r['p95']:6.1f}ms {r['p99']:6.1f}ms "
              f"{r['load']:5.1f}  {other} {verdict}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", default="4,1", help="numbers of gunicorn workers, in turn")
    parser.add_argument("--duration", type=float, default=10, help="seconds per page")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="of each worker (above 1: gunicorn's gthread workers)",
    )
    parser.add_argument("--processes", type=int, default=2, help="of the load generator")
    parser.add_argument("--user", default="maria", help="a demo user (password 'demo')")
    parser.add_argument(
        "--pages", default="", help="only the pages whose names start so, e.g. 'client file'"
    )
    default_server = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    parser.add_argument("--server", default=os.environ.get("CRM_TEST_DATABASE_URL", default_server))
    parser.add_argument("--database-url", help="a database built before (kept as it is)")
    parser.add_argument("--keep", action="store_true", help="keep the database built")
    parser.add_argument(
        "--code",
        type=Path,
        help="another checkout of the CRM to serve (an older commit, say), in this environment",
    )
    args = parser.parse_args()

    server_url = make_url(args.server)
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    name = make_url(args.database_url).database if args.database_url else None
    fresh = name is None
    if fresh:
        name = f"crm_throughput_{uuid.uuid4().hex[:8]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = args.database_url or server_url.set(database=name).render_as_string(hide_password=False)
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": uuid.uuid4().hex,
           "CRM_INSTANCE_PATH": str(Path(tempfile.gettempdir()) / name),
           "CRM_ADMIN_PASSWORD": uuid.uuid4().hex}  # fmt: skip
    code = ROOT
    if args.code is not None:  # ahead of the editable installs of this environment
        code = args.code.resolve()
        paths = [code, *sorted(p for p in (code / "plugins").iterdir() if p.is_dir())]
        env["PYTHONPATH"] = os.pathsep.join(map(str, paths))
    rows: list[tuple[int, str, dict]] = []
    try:
        if fresh:
            print(f"database {name}: init, every module, demo data ...", flush=True)
            crm(env, "init")
            crm(env, "module", "install", "--all")
            crm(env, "demo")
        for workers in [int(n) for n in args.workers.split(",")]:
            args.workers_now = workers
            server, port = start_gunicorn(
                env,
                workers,
                "core.wsgi:app",
                ["--chdir", str(code), "--threads", str(args.threads)],
            )
            try:
                browser = Browser(f"http://127.0.0.1:{port}")
                browser.log_in(args.user)
                for page, request in scenarios(browser, port).items():
                    if args.pages and not any(page.startswith(p) for p in args.pages.split(",")):
                        continue
                    before = None
                    if page.startswith("static"):
                        # An idle backend reports its last transactions to pg_stat_database up
                        # to 10 s late (PostgreSQL 15): those of the pages before are let in
                        # first, and those of the static files awaited after.
                        time.sleep(STATS_DELAY)
                        before = transactions(admin, name)
                    figures = measure(port, server.pid, request, args)
                    if before is not None:
                        time.sleep(STATS_DELAY)
                        figures["transactions"] = transactions(admin, name) - before
                    rows.append((workers, page, figures))
                    print(f"  {workers} workers, {page}: {figures['rps']:.1f}/s", flush=True)
            finally:
                log = stop(server)
                if "Traceback" in log:
                    print(log[-3000:])
            bench = ["--chdir", str(ROOT / "bench")]
            server, port = start_gunicorn(env, workers, "trivial_wsgi:app", bench)
            try:
                request = raw_request(port, "GET", "/", {})
                rows.append(
                    (
                        workers,
                        "trivial WSGI app (ceiling)",
                        measure(port, server.pid, request, args),
                    )
                )
            finally:
                stop(server)
        report(rows)
        print(f"\nload generator: {args.processes} processes, {args.connections} connections; "
              f"{os.cpu_count()} CPUs; load average now {os.getloadavg()}")  # fmt: skip
    finally:
        if fresh and args.keep:
            print(f"kept: --database-url {url}")
        elif fresh:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
