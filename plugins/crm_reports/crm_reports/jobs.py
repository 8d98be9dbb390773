"""Large exports as background jobs (``core.jobs``): a list report of more rows than a request
should stream leaves the request, shows its progress on ``/jobs/<id>``, and its file is kept for
the user who started it. The job runs with that user's permissions and record rules."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from flask import current_app

from core import hookimpl
from core.jobs import JobDef, JobError, enqueue
from core.report_fields import SpecError
from crm_reports import service
from crm_reports.export import FORMATS, export
from crm_reports.permissions import READ

JOB = "crm_reports.export"
#: A list report with more rows than this is exported by a job (REPORTS_SYNC_ROWS overrides it).
SYNC_ROWS = 50_000


def sync_rows() -> int:
    return int(current_app.config.get("REPORTS_SYNC_ROWS", SYNC_ROWS))


def needs_job(runner) -> bool:
    """A grouped report is small (its groups); a list report is counted first."""
    if not runner.spec.is_list:
        return False
    limit = runner.spec.limit
    if limit is not None and limit <= sync_rows():
        return False
    return runner.count() > sync_rows()


def start(user: Any, spec: dict, fmt: str, title: str) -> int:
    return enqueue(JOB, user, label=f"Export of “{title}” ({fmt.upper()})", spec=spec, fmt=fmt,
                   title=title)  # fmt: skip


def export_job(ctx: Any, spec: dict, fmt: str, title: str) -> None:
    if fmt not in FORMATS:
        raise JobError("Export as csv or xlsx.")
    try:
        runner = service.runner(spec, ctx.user, ctx.session)
    except SpecError as exc:
        raise JobError(f"The report cannot run: {exc}") from None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"report.{fmt}"

        def progress(done: int, total: int) -> None:
            ctx.progress(done, total, f"{done:,} of {total:,} rows")

        export(runner, fmt, path, title, progress)
        ctx.result_file(f"{_slug(title)}.{fmt}", path, FORMATS[fmt])
    ctx.result_summary(f"“{title}” exported to {fmt.upper()}.")


def _slug(title: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_ " else "_" for ch in title).strip()
    return (safe or "report").replace(" ", "-").lower()[:80]


@hookimpl
def crm_jobs() -> list[JobDef]:
    return [JobDef(JOB, export_job, "Report export", READ)]
