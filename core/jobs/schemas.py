"""The JSON shape of a job (API and the job page's polling)."""

from __future__ import annotations

from datetime import UTC

from flask import url_for
from marshmallow import fields

from core.schemas import Schema


class JobSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    label = fields.String(dump_only=True)
    status = fields.String(dump_only=True)
    user_id = fields.Integer(dump_only=True, allow_none=True)
    done = fields.Integer(attribute="progress_done", dump_only=True)
    total = fields.Integer(attribute="progress_total", dump_only=True, allow_none=True)
    percent = fields.Integer(dump_only=True, allow_none=True)
    message = fields.String(attribute="progress_message", dump_only=True)
    summary = fields.String(attribute="result_summary", dump_only=True)
    link = fields.String(attribute="result_link", dump_only=True, allow_none=True)
    download = fields.Method("_download", dump_only=True, allow_none=True)
    error = fields.String(dump_only=True)
    attempts = fields.Integer(dump_only=True)
    max_attempts = fields.Integer(dump_only=True)
    finished = fields.Boolean(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True, default_timezone=UTC)
    started_at = fields.AwareDateTime(dump_only=True, default_timezone=UTC, allow_none=True)
    finished_at = fields.AwareDateTime(dump_only=True, default_timezone=UTC, allow_none=True)

    def _download(self, job) -> str | None:
        if not job.result_attachment_id:
            return None
        return url_for("core_jobs.job_result", job_id=job.id)
