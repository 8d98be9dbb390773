"""What a page costs beyond its own queries: the client file at demo size, in process.

    .venv/bin/python bench/request_overhead.py [--users maria,elena] [--repeat 200] [--profile]
    PYTHONPATH=<old checkout>:<its plugins...> .venv/bin/python bench/request_overhead.py

A fresh SQLite database with every bundled module and ``crm demo``; for each user (maria, a sales
representative whose record rules apply; elena, an administrator who has none), the client file of
their first client through the whole WSGI stack (Flask test client): median wall and CPU time per
page, SQL statements, templates rendered, ``has_permission`` calls; with ``--profile``, the
functions that cost most (cProfile, cumulative). Run with ``PYTHONPATH`` naming another checkout
to measure its code on the same data (the before of a change).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import tempfile
from pathlib import Path

from click.testing import CliRunner
from common import BUNDLED, bench_app, median_ms
from flask import template_rendered
from flask.cli import ScriptInfo
from sqlalchemy import event

from core import auth
from core.cli import main as crm


def counted_has_permission() -> list[int]:
    """Count the calls of ``core.auth.has_permission`` (templates find it through the module)."""
    calls = [0]
    original = auth.has_permission

    def counting(*args, **kwargs):
        calls[0] += 1
        return original(*args, **kwargs)

    auth.has_permission = counting
    return calls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", default="maria,elena")
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="crm-bench-overhead-"))
    app = bench_app(folder, folder / "bench.sqlite3", BUNDLED)
    result = CliRunner().invoke(crm, ["demo"], obj=ScriptInfo(create_app=lambda: app))
    assert result.exit_code == 0, result.output
    print(f"code: {Path(auth.__file__).parent.parent}; database {folder / 'bench.sqlite3'}")
    statements: list[str] = []
    event.listen(
        app.extensions["crm"].engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, *_a: statements.append(statement),
    )
    renders = [0]
    template_rendered.connect(
        lambda *_a, **_k: renders.__setitem__(0, renders[0] + 1), app, weak=False
    )
    calls = counted_has_permission()
    for user in args.users.split(","):
        http = app.test_client()
        answer = http.post("/login", data={"login": user, "password": "demo"})
        assert answer.status_code == 302, f"login of {user}: {answer.status_code}"
        client = http.get("/api/v1/clients?per_page=1").get_json()["items"][0]["id"]
        path = f"/contacts/clients/{client}"
        for _ in range(20):
            assert http.get(path).status_code == 200
        statements.clear()
        renders[0] = calls[0] = 0
        http.get(path)
        counts = (len(statements), renders[0], calls[0])
        cpu: list[float] = []
        wall = median_ms(lambda _i, h=http, p=path: h.get(p), args.repeat, cpu=cpu)
        print(f"{user:8} client file: {wall:6.2f} ms wall, {cpu[0]:6.2f} ms CPU (medians of "
              f"{args.repeat}); {counts[0]} SQL statements, {counts[1]} templates rendered, "
              f"{counts[2]} has_permission calls")  # fmt: skip
        if args.profile:
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(50):
                http.get(path)
            profile.disable()
            stats = pstats.Stats(profile).sort_stats(os.environ.get("PROFILE_SORT", "cumulative"))
            stats.print_stats(int(os.environ.get("PROFILE_LINES", "30")))
            if callers := os.environ.get("PROFILE_CALLERS"):  # e.g. "get' of 'dict"
                stats.print_callers(callers)
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
