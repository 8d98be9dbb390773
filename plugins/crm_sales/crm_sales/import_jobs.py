"""The sales-document import of the web page as background jobs: a check (every error by row),
then, once confirmed, the import (checked again, written all or nothing in the job's
transaction). The file is read from the attachment storage, so any worker on any host reads what
was uploaded."""

from __future__ import annotations

from typing import Any

from flask import url_for

from core import hookimpl
from core.jobs import JobDef, JobError
from crm_sales.importing import ImportPlan, apply_import, plan_import
from crm_sales.permissions import IMPORT

CHECK = "crm_sales.check_import"
IMPORT_JOB = "crm_sales.import"
MESSAGES_KEPT = 200


class _Counter:
    def __init__(self, ctx: Any, total: int, message: str) -> None:
        self.ctx, self.total, self.message, self.done = ctx, max(total, 1), message, 0
        ctx.progress(0, self.total, message)

    def __call__(self, n: int) -> None:
        self.done += n
        self.ctx.progress(min(self.done, self.total), self.total, self.message)


def _plan(ctx: Any, content: bytes) -> ImportPlan:
    lines = max(content.count(b"\n") - 1, 1)  # rows below the header, near enough for a bar
    return plan_import(ctx.session, content, progress=_Counter(ctx, lines, "Checking rows"))


def check_import(ctx: Any, filename: str) -> None:
    plan = _plan(ctx, ctx.input_file("upload"))
    ctx.result_data(
        {
            "filename": filename,
            "rows": plan.rows,
            "documents": len(plan.documents),
            "valid": plan.valid,
            "error_count": len(plan.errors),
            "errors": [str(e) for e in plan.errors[:MESSAGES_KEPT]],
        }
    )
    verdict = (
        f"correct, {len(plan.documents)} documents"
        if plan.valid
        else f"{len(plan.errors)} problems: nothing can be imported until they are corrected"
    )
    ctx.result_summary(
        f"{filename} checked: {plan.rows} rows, {verdict}.",
        link=url_for("crm_sales.import_check", job_id=ctx.job_id),
    )


def run_import(ctx: Any, filename: str) -> None:
    plan = _plan(ctx, ctx.input_file("upload"))
    if not plan.valid:
        raise JobError(
            f"{filename} no longer passes the check ({len(plan.errors)} problems, the first: "
            f"{plan.errors[0]}). Nothing was imported: upload it again."
        )
    counter = _Counter(ctx, len(plan.documents), "Writing documents")
    result = apply_import(ctx.session, plan.documents, progress=counter)
    ctx.result_summary(
        f"{filename} imported, {plan.rows} rows: {result.created} documents created, "
        f"{result.replaced} replaced, {result.unchanged} unchanged.",
        link=url_for("crm_sales.document_list"),
    )


@hookimpl
def crm_jobs() -> list[JobDef]:
    return [
        JobDef(CHECK, check_import, "Check of a sales import", IMPORT, follow=True),
        JobDef(IMPORT_JOB, run_import, "Import of sales documents", IMPORT),
    ]
