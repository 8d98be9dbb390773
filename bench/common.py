"""What every benchmark script shares: the application on a fresh SQLite file, and the timer.

The scripts run as ``python bench/<name>.py``, so this folder is on ``sys.path`` and they import
this module as ``common``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from flask import Flask

from core.app import create_app
from core.modules import init_core, install
from core.plugins import discover

BUNDLED = [
    "crm_contacts", "crm_tasks", "crm_contracts", "crm_sales", "crm_pricing",
    "crm_competitors", "crm_advertising", "crm_reports",
]  # fmt: skip


def bench_app(
    folder: Path,
    path: Path,
    modules: Iterable[str] | None = (),
    database_url: str | None = None,
    **config: Any,
) -> Flask:
    """The application on the SQLite file ``path`` (or on ``database_url``; instance files in
    ``folder``), logins without
    CSRF tokens. ``modules`` (with their dependencies) are installed on a new database; ``None``
    measures a database built before, as it is. ``BUNDLED`` installs every bundled module that is
    available and not broken."""
    plugins = discover()
    app = create_app(
        {"DATABASE_URL": database_url or f"sqlite:///{path}", "SECRET_KEY": "bench",
         "INSTANCE_PATH": str(folder), "TESTING": True, "WTF_CSRF_ENABLED": False, **config},
        plugins=plugins,
    )  # fmt: skip
    if modules is not None:
        engine = app.extensions["crm"].engine
        init_core(engine, plugins)
        install(engine, plugins, [m for m in modules if m in plugins and not plugins[m].broken])
    return app


def median_ms(fn: Callable[[int], Any], repeat: int, *, cpu: list[float] | None = None) -> float:
    """The median wall time in ms of ``fn(i)`` for ``i`` in ``range(repeat)`` (``i`` lets a bench
    walk through its sample). With ``cpu``, the median CPU time of this process is appended to it:
    on a shared machine CPU time is what the code costs, wall time what a user waits."""
    wall, used = [], []
    for i in range(repeat):
        # The CPU clock is read outside the wall-clock window: a microsecond figure must not
        # carry the cost of reading the other clock.
        start_cpu = time.process_time()
        start = time.perf_counter()
        fn(i)
        stop = time.perf_counter()
        used.append((time.process_time() - start_cpu) * 1000)
        wall.append((stop - start) * 1000)
    if cpu is not None:
        cpu.append(statistics.median(used))
    return statistics.median(wall)
