"""The client import as background jobs: a check (per-row errors, what would happen), then, once
the user confirmed, the import itself (checked again, then written, all or nothing).

Both read the uploaded file from the attachment storage (``ctx.open_input``, as a stream), so a
worker on another host reads what the user uploaded. The check's result is the plan in short
(``ctx.result_data``), which the check page shows; the import writes in the job's one transaction:
a failure or a killed worker leaves the clients as they were.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import url_for

from core import hookimpl
from core.jobs import JobDef, JobError
from crm_contacts.importing import ImportPlan, run_import
from crm_contacts.permissions import IMPORT

CHECK = "crm_contacts.check_import"
IMPORT_JOB = "crm_contacts.import"
MESSAGES_KEPT = 200  # errors and warnings kept for the check page; the counts are complete


def _run(ctx: Any, key: str, *, write: bool) -> ImportPlan:
    """The file read from the storage as a stream, a chunk of clients at a time (``run_import``):
    the worker holds one chunk, not the file."""
    with ctx.open_input("upload") as stream:
        return run_import(ctx.session, stream, key, write=write, report=ctx.progress)


def summary_of(plan: ImportPlan, filename: str) -> dict[str, Any]:
    """What the check page shows, as JSON values."""
    return {
        "filename": filename,
        "key": plan.key,
        "rows": plan.rows,
        "valid": plan.valid,
        "creates": plan.created,
        "updates": plan.updated,
        "unchanged": plan.unchanged,
        "error_count": len(plan.errors),
        "warning_count": len(plan.warnings),
        "errors": [{"row": e.row, "text": str(e)} for e in plan.errors[:MESSAGES_KEPT]],
        "warnings": [{"row": w.row, "text": str(w)} for w in plan.warnings[:MESSAGES_KEPT]],
        "preview": [asdict(p) for p in plan.preview],
    }


def check_import(ctx: Any, key: str, filename: str) -> None:
    plan = _run(ctx, key, write=False)
    ctx.result_data(summary_of(plan, filename))
    verdict = (
        f"{plan.created} new, {plan.updated} to update, {plan.unchanged} unchanged"
        if plan.valid
        else f"{len(plan.errors)} errors: nothing can be imported until they are corrected"
    )
    ctx.result_summary(
        f"{filename} checked: {plan.rows} rows, {verdict}.",
        link=url_for("crm_contacts.import_check", job_id=ctx.job_id),
    )


def import_file(ctx: Any, key: str, filename: str) -> None:
    """Checked again as it is written: the clients may have changed since the check. Any error
    fails the job, and its one transaction leaves nothing written."""
    plan = _run(ctx, key, write=True)
    if not plan.valid:
        first = plan.errors[0]
        raise JobError(
            f"{filename} no longer passes the check ({len(plan.errors)} errors, the first: "
            f"{first}); the clients changed since. Nothing was imported: upload it again."
        )
    ctx.result_data(
        {
            "filename": filename,
            "created": plan.created,
            "updated": plan.updated,
            "unchanged": plan.unchanged,
            "persons": plan.persons_added,
            "warnings": len(plan.warnings),
        }
    )
    ctx.result_summary(
        f"{filename} imported: {plan.created} new clients, {plan.updated} updated, "
        f"{plan.unchanged} unchanged, {plan.persons_added} contact persons added.",
        link=url_for("crm_contacts.import_result", job_id=ctx.job_id),
    )


@hookimpl
def crm_jobs() -> list[JobDef]:
    return [
        JobDef(CHECK, check_import, "Check of a client import", IMPORT, follow=True),
        JobDef(IMPORT_JOB, import_file, "Import of clients", IMPORT),
    ]
