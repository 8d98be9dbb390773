"""Helpers of crm_tasks' tests (fixtures are in conftest.py)."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy.orm import Session

from crm_tasks.models import Task

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("UTC"))  # a Tuesday
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def session_of(app: Flask) -> Session:
    return Session(app.extensions["crm"].engine)


def task_row(app: Flask, task_id: int) -> Task:
    with session_of(app) as session:
        task = session.get(Task, task_id)
        session.expunge_all()
        return task


def pdf_upload(name: str = "brief.pdf", data: bytes = PDF):
    return (io.BytesIO(data), name)


def run_crm(app: Flask, *args: str):
    """Run the real ``crm`` command group against ``app``'s database."""
    from click.testing import CliRunner
    from flask.cli import ScriptInfo

    from core.cli import main

    return CliRunner().invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app))
