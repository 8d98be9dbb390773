"""The client import as background jobs: a check (per-row errors, what would happen), then, once
the user confirmed, the import itself (checked again, then written, all or nothing).

Both read the uploaded file from the attachment storage (``ctx.input_file``), so a worker on
another host reads what the user uploaded. The check's result is the plan in short
(``ctx.result_data``), which the check page shows; the import writes in the job's one transaction:
a failure or a killed worker leaves the clients as they were.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import url_for

from core import hookimpl
from core.jobs import JobDef, JobError
from crm_contacts.importing import ImportPlan, apply_import, count_rows, plan_import
from crm_contacts.permissions import IMPORT

CHECK = "crm_contacts.check_import"
IMPORT_JOB = "crm_contacts.import"
MESSAGES_KEPT = 200  # errors and warnings kept for the check page; the counts are complete


class _Counter:
    """Turns the importer's "n more done" into the job's running total."""

    def __init__(self, ctx: Any, total: int, message: str) -> None:
        self.ctx, self.total, self.message, self.done = ctx, total, message, 0
        ctx.progress(0, total, message)

    def __call__(self, n: int) -> None:
        self.done += n
        self.ctx.progress(min(self.done, self.total), self.total, self.message)


def _plan(ctx: Any, content: bytes, key: str) -> ImportPlan:
    return plan_import(
        ctx.session, content, key=key, progress=_Counter(ctx, count_rows(content), "Checking rows")
    )


def summary_of(plan: ImportPlan, filename: str) -> dict[str, Any]:
    """What the check page shows, as JSON values."""
    return {
        "filename": filename,
        "key": plan.key,
        "rows": plan.rows,
        "valid": plan.valid,
        "creates": len(plan.creates),
        "updates": len(plan.updates),
        "unchanged": plan.unchanged,
        "error_count": len(plan.errors),
        "warning_count": len(plan.warnings),
        "errors": [{"row": e.row, "text": str(e)} for e in plan.errors[:MESSAGES_KEPT]],
        "warnings": [{"row": w.row, "text": str(w)} for w in plan.warnings[:MESSAGES_KEPT]],
        "preview": [asdict(p) for p in plan.preview],
    }


def check_import(ctx: Any, key: str, filename: str) -> None:
    plan = _plan(ctx, ctx.input_file("upload"), key)
    ctx.result_data(summary_of(plan, filename))
    verdict = (
        f"{len(plan.creates)} new, {len(plan.updates)} to update, {plan.unchanged} unchanged"
        if plan.valid
        else f"{len(plan.errors)} errors: nothing can be imported until they are corrected"
    )
    ctx.result_summary(
        f"{filename} checked: {plan.rows} rows, {verdict}.",
        link=url_for("crm_contacts.import_check", job_id=ctx.job_id),
    )


def run_import(ctx: Any, key: str, filename: str) -> None:
    plan = _plan(ctx, ctx.input_file("upload"), key)
    if not plan.valid:
        first = plan.errors[0]
        raise JobError(
            f"{filename} no longer passes the check ({len(plan.errors)} errors, the first: "
            f"{first}); the clients changed since. Nothing was imported: upload it again."
        )
    writes = len(plan.creates) + len(plan.updates)
    result = apply_import(ctx.session, plan, progress=_Counter(ctx, writes, "Writing clients"))
    ctx.result_data(
        {
            "filename": filename,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "persons": result.persons,
            "warnings": len(plan.warnings),
        }
    )
    ctx.result_summary(
        f"{filename} imported: {result.created} new clients, {result.updated} updated, "
        f"{result.unchanged} unchanged, {result.persons} contact persons added.",
        link=url_for("crm_contacts.import_result", job_id=ctx.job_id),
    )


@hookimpl
def crm_jobs() -> list[JobDef]:
    return [
        JobDef(CHECK, check_import, "Check of a client import", IMPORT, follow=True),
        JobDef(IMPORT_JOB, run_import, "Import of clients", IMPORT),
    ]
