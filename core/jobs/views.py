"""Pages of the job service: "My jobs", a job's live page, its state as JSON, cancel, download.

A job is private to the user who started it: anybody else gets 404 (not even its existence), except
holders of ``core.jobs`` (administrators), who see every job and may cancel one.
"""

from __future__ import annotations

import math

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from core.api import api_doc, paginate
from core.attachments import open_file
from core.auth import has_permission
from core.db import db_session, without_write_lock
from core.jobs.api import cancel
from core.jobs.models import FINISHED, RUNNING, Job
from core.jobs.queue import job_queue
from core.jobs.schemas import JobSchema
from core.models import Attachment
from core.permissions import AUTHENTICATED, permission_required
from core.state import current_state

ALL_JOBS = "core.jobs"
PER_PAGE = 25

bp = Blueprint("core_jobs", __name__, url_prefix="/jobs")
api = Blueprint("core_jobs_api", __name__, url_prefix="/api/v1/jobs")


def _sees_all() -> bool:
    return has_permission(ALL_JOBS)


def _visible(stmt):
    return stmt if _sees_all() else stmt.where(Job.user_id == current_user.id)


def _job_or_404(job_id: int) -> Job:
    job = db_session.get(Job, job_id)
    if job is None or not (job.user_id == current_user.id or _sees_all()):
        abort(404)
    return job


def progress_of(job: Job) -> dict:
    """How far ``job`` is: a running job reports to the queue's storage, not to its row (which
    its own transaction will write at the end)."""
    done, total, message = job.progress_done, job.progress_total, job.progress_message
    if job.status == RUNNING:
        reported = job_queue().progress(job.id)
        if reported is not None:
            done, total, message = reported
    percent = job.percent if job.status != RUNNING else None
    if job.status == RUNNING and total:
        percent = max(0, min(100, int(100 * done / total)))
    return {"done": done, "total": total, "message": message, "percent": percent}


def _may_cancel(job: Job) -> bool:
    return not job.finished and (job.user_id == current_user.id or _sees_all())


def state_of(job: Job) -> dict:
    data = JobSchema().dump(job)
    data.update(progress_of(job))
    data["may_cancel"] = _may_cancel(job)
    data["follow"] = bool(job.status == "done" and job.result_link and _follows(job))
    return data


def _follows(job: Job) -> bool:

    definition = current_state().jobs.get(job.name)
    return bool(definition and definition.follow)


@bp.route("/")
@permission_required(AUTHENTICATED)
def job_list():
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    everybody = _sees_all() and request.args.get("mine") != "1"
    stmt = select(Job) if everybody else select(Job).where(Job.user_id == current_user.id)
    status = request.args.get("status", "")
    if status == "active":
        stmt = stmt.where(Job.status.not_in(FINISHED))
    elif status:
        stmt = stmt.where(Job.status == status)
    total = db_session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    jobs = db_session.scalars(
        stmt.options(joinedload(Job.user))
        .order_by(Job.created_at.desc(), Job.id.desc())
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    return render_template(
        "core/jobs/list.html",
        jobs=jobs,
        page=page,
        pages=max(1, math.ceil(total / PER_PAGE)),
        total=total,
        everybody=everybody,
        sees_all=_sees_all(),
        status=status,
    )


@bp.route("/<int:job_id>")
@permission_required(AUTHENTICATED)
def job_detail(job_id: int):
    job = _job_or_404(job_id)
    return render_template(
        "core/jobs/detail.html",
        job=job,
        progress=progress_of(job),
        may_cancel=_may_cancel(job),
        follow=_follows(job),
        result=db_session.get(Attachment, job.result_attachment_id)
        if job.result_attachment_id
        else None,
    )


@bp.route("/<int:job_id>/cancel", methods=["GET", "POST"])
@permission_required(AUTHENTICATED)
@without_write_lock  # a running job is told through the queue's storage, not this database
def job_cancel(job_id: int):
    job = _job_or_404(job_id)
    if not _may_cancel(job):
        flash("This job has finished: there is nothing to cancel.", "warning")
        return redirect(url_for(".job_detail", job_id=job.id))
    if request.method == "GET":
        return render_template("core/jobs/cancel.html", job=job)
    cancel(db_session, job)
    flash(
        "Cancelled."
        if job.finished
        else "Cancelling: the job stops at its next step and nothing it did is kept.",
        "success",
    )
    return redirect(url_for(".job_detail", job_id=job.id))


@bp.route("/<int:job_id>/result")
@permission_required(AUTHENTICATED)
def job_result(job_id: int):
    from flask import send_file

    job = _job_or_404(job_id)
    attachment = (
        db_session.get(Attachment, job.result_attachment_id) if job.result_attachment_id else None
    )
    if attachment is None:
        abort(404, "This job has no result file.")
    try:
        stream = open_file(attachment)
    except FileNotFoundError:
        abort(404, "The result file is missing from the storage.")
    response = send_file(
        stream,
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=attachment.name,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@api.route("")
@permission_required(AUTHENTICATED)
@api_doc(
    "Your background jobs, newest first (administrators: everybody's)",
    response_schema=JobSchema,
    many=True,
    query=("status", "page", "per_page"),
)
def api_job_list():
    return jsonify(
        paginate(
            _visible(select(Job)),
            JobSchema(),
            model=Job,
            filterable=("status", "name"),
            sortable=("created_at", "id"),
            default_sort="-id",
        )
    )


@api.route("/<int:job_id>")
@permission_required(AUTHENTICATED)
@api_doc("One job's state and progress (the job page polls it)", response_schema=JobSchema)
def api_job(job_id: int):
    response = jsonify(state_of(_job_or_404(job_id)))
    response.headers["Cache-Control"] = "no-store"
    return response
