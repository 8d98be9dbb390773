"""``crm reports run SPEC.json --format csv|xlsx -o FILE``: a report to a file, from cron or a
shell, with the permissions and record rules of the user named by ``--user``."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from core import hookimpl
from core.db import db_session
from core.models import User
from core.report_fields import SpecError
from crm_reports import service
from crm_reports.export import export


def reports_cli() -> click.Group:
    """A new group each time: the core wraps the commands it is given (module installed?)."""

    @click.group("reports")
    def reports() -> None:
        """The report generator: run a report spec to a CSV or XLSX file."""

    @reports.command("run")
    @click.argument("spec_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv",
                  show_default=True)  # fmt: skip
    @click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
    @click.option("--user", "login", default="admin", show_default=True,
                  help="Run with this user's permissions and record rules.")  # fmt: skip
    @with_appcontext
    def run_command(spec_file: Path, fmt: str, output: Path, login: str) -> None:
        """Run the report spec in SPEC_FILE (JSON, as the API takes it) and write it to OUTPUT."""
        try:
            raw = json.loads(spec_file.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise click.ClickException(f"{spec_file} is not JSON: {exc}") from None
        user = db_session.scalar(select(User).where(User.login == login, User.active.is_(True)))
        if user is None:
            raise click.ClickException(f"no active user {login!r} (--user)")
        with service.as_user(current_app._get_current_object(), user):
            try:
                runner = service.runner(raw, user, db_session)
            except SpecError as exc:
                raise click.ClickException(f"the spec cannot run: {exc}") from None
            title = raw.get("title") or spec_file.stem
            started, cpu = time.perf_counter(), time.process_time()
            with click.progressbar(length=1, label="Rows", show_pos=True, file=sys.stderr) as bar:

                def progress(done: int, total: int) -> None:
                    bar.length = max(total, 1)
                    bar.update(done - bar.pos)

                export(runner, fmt, output, title, progress)
            db_session.rollback()
        click.echo(
            f"Written: {output} in {time.perf_counter() - started:.1f} s "
            f"(CPU {time.process_time() - cpu:.1f} s)"
        )

    return reports


@hookimpl
def crm_commands() -> list[click.Command]:
    return [reports_cli()]
