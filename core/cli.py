"""The ``crm`` command: Flask's CLI conventions with the CRM's own commands."""

from __future__ import annotations

import functools
import logging
import os
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, ScriptInfo, with_appcontext
from sqlalchemy import select
from sqlalchemy.exc import OperationalError, ProgrammingError

from core import core_hooks
from core.app import create_app
from core.config import instance_path
from core.jobs.worker import worker_command
from core.modules import (
    ModuleError,
    init_core,
    install,
    installed_modules,
    uninstall,
    uninstall_impact,
    upgrade_all,
)
from core.plugins import PluginInfo, build_plugin_manager, collect, discover
from core.state import current_state

log = logging.getLogger(__name__)


def _crm():
    return current_app.extensions["crm"]


@functools.cache
def _plugins() -> dict[str, PluginInfo]:
    return discover()


class CrmGroup(FlaskGroup):
    """``crm``: the core's commands, then those modules contribute through ``crm_commands``."""

    def _module_commands(self, ctx: click.Context) -> dict[str, click.Command]:
        plugins = _plugins()
        pm, errors = build_plugin_manager(core_hooks, [p for p in plugins.values() if not p.broken])
        commands: dict[str, click.Command] = {}
        for module, command in collect(pm, "crm_commands", errors):
            if command.name in commands or command.name in super().list_commands(ctx):
                log.error("module %s: command %r is taken, skipped", module, command.name)
                continue
            commands[command.name] = _refuse_unless_installed(module, command)
        return commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._module_commands(ctx)})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return super().get_command(ctx, name) or self._module_commands(ctx).get(name)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (OperationalError, ProgrammingError) as exc:
            if not _missing_table(exc):
                raise
            url = os.environ.get("DATABASE_URL") or f"{instance_path() / 'crm.sqlite3'}"
            raise click.ClickException(
                f"no CRM database initialised at {url}: run `crm init` first, or run `crm` from "
                "the folder of your installation (or set CRM_INSTANCE_PATH or DATABASE_URL)."
            ) from None


def _missing_table(exc: Exception) -> bool:
    """A command run before ``crm init`` (or in another folder) meets a database without tables."""
    text = str(getattr(exc, "orig", exc)).lower()
    return "no such table" in text or ("relation" in text and "does not exist" in text)


def _refuse_unless_installed(module: str, command: click.Command) -> click.Command:
    original = command.invoke

    def invoke(ctx: click.Context):
        app = ctx.ensure_object(ScriptInfo).load_app()
        with app.app_context():
            if not current_state().is_installed(module):
                raise click.ClickException(
                    f"module {module} is not installed in this database: "
                    f"crm module install {module}"
                )
        return original(ctx)

    command.invoke = invoke  # type: ignore[method-assign]
    return command


@click.group(
    cls=CrmGroup, create_app=lambda: create_app(plugins=_plugins()), add_version_option=False
)
def main() -> None:
    """CRM: the customer-relationship-management system and its modules."""


main.add_command(worker_command)


@main.command("init")
@click.option("--admin-login", default="admin", show_default=True)
@with_appcontext
def init_command(admin_login: str) -> None:
    """Create the database's core tables and an administrator account.

    The password comes from CRM_ADMIN_PASSWORD, else a prompt. Running it again is harmless.
    """
    from core.auth import create_user
    from core.db import db_session
    from core.models import User

    crm = _crm()
    init_core(crm.engine, crm.plugins)
    if db_session.scalar(select(User).where(User.login == admin_login)) is None:
        password = os.environ.get("CRM_ADMIN_PASSWORD") or click.prompt(
            f"Password for {admin_login}", hide_input=True, confirmation_prompt=True
        )
        create_user(db_session, admin_login, password, name="Administrator", groups=("admin",))
        db_session.commit()
        click.echo(f"Created the administrator {admin_login!r}.")
    click.echo(f"Database ready: {crm.engine.url.render_as_string(hide_password=True)}")


@main.group("module")
def module_group() -> None:
    """List, install and uninstall modules in this database."""


@module_group.command("list")
@with_appcontext
def module_list() -> None:
    """Every module: name, version, state, depends, summary."""
    crm = _crm()
    with crm.engine.connect() as connection:
        installed = set(installed_modules(connection))
    rows = []
    for name, info in crm.plugins.items():
        state = "broken" if info.broken else "installed" if name in installed else "not installed"
        rows.append((name, info.version, state, ",".join(info.depends) or "-", info.summary))
    for name in sorted(installed - set(crm.plugins)):
        rows.append((name, "?", "installed (distribution missing)", "-", ""))
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(_HEADERS[:4])]
    click.echo(
        "  ".join(h.ljust(w) for h, w in zip(_HEADERS[:4], widths, strict=True)) + "  SUMMARY"
    )
    for row in rows:
        click.echo(
            "  ".join(c.ljust(w) for c, w in zip(row[:4], widths, strict=True)) + "  " + row[4]
        )
    for name, info in crm.plugins.items():
        if info.broken:
            click.echo(f"\n{name} is broken: {info.error}", err=True)


_HEADERS = ("NAME", "VERSION", "STATE", "DEPENDS")


@module_group.command("install")
@click.argument("names", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Install every available module.")
@with_appcontext
def module_install(names: tuple[str, ...], all_: bool) -> None:
    """Install modules, their missing dependencies first. All or nothing."""
    crm = _crm()
    if all_:
        names = tuple(n for n, p in crm.plugins.items() if not p.broken)
    if not names:
        raise click.UsageError("name at least one module, or --all")
    try:
        done = install(crm.engine, crm.plugins, names)
    except ModuleError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Installed: {', '.join(done)}" if done else "Nothing to install.")


@module_group.command("uninstall")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Confirm dropping the module's tables.")
@with_appcontext
def module_uninstall(name: str, yes: bool) -> None:
    """Uninstall a module and drop its tables (asks for --yes after showing what goes)."""
    crm = _crm()
    try:
        impact = uninstall_impact(crm.engine, crm.plugins, name)
    except ModuleError as exc:
        raise click.ClickException(str(exc)) from exc
    if not impact.allowed:
        raise click.ClickException(
            f"cannot uninstall {name}: installed modules depend on it: "
            f"{', '.join(impact.blocked_by)}. Uninstall those first."
        )
    click.echo(f"Uninstalling {name} drops these tables:")
    for table in impact.tables:
        click.echo(f"  {table.name}: {table.rows} rows")
    if not impact.tables:
        click.echo("  (none)")
    if impact.permissions:
        click.echo(f"and removes the permissions {', '.join(impact.permissions)}.")
    if not yes:
        click.echo("Nothing was changed. Run again with --yes to uninstall.")
        sys.exit(1)
    try:
        uninstall(crm.engine, crm.plugins, name)
    except ModuleError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Uninstalled {name}.")


@main.group("db")
def db_group() -> None:
    """Database migrations."""


@db_group.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Upgrade the core's and every installed module's Alembic branch to head."""
    crm = _crm()
    names = upgrade_all(crm.engine, crm.plugins)
    click.echo(f"Upgraded: core{', ' if names else ''}{', '.join(names)}")


@db_group.command("revision")
@click.argument("module")
@click.option("-m", "--message", required=True, help="What the revision changes.")
@click.option("--autogenerate/--empty", default=True, show_default=True)
@with_appcontext
def db_revision(module: str, message: str, autogenerate: bool) -> None:
    """Write a new revision on MODULE's branch, comparing its models with the database."""
    from core.revisions import write_revision

    try:
        path = write_revision(_crm(), module, message, autogenerate)
    except ModuleError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Wrote {path}")


@main.command("demo")
@click.option("--scale", default=1, show_default=True, help="1 is a small demo; more is more.")
@with_appcontext
def demo(scale: int) -> None:
    """Fill every installed module with demo data, in dependency order."""
    from core.db import db_session
    from core.plugins import call_one

    state = current_state()
    # The core first: its demo users own the records the modules create.
    with click.progressbar(("core", *state.installed), label="Demo data", show_pos=True) as modules:
        for module in modules:
            call_one(state.pm, "crm_demo_data", module, session=db_session, scale=scale)
            db_session.commit()
    click.echo(f"\nDemo data written for: {', '.join(state.installed) or 'no module'}")
    click.echo(
        "Demo users (password 'demo'): maria and peter (sales representatives), "
        "georgi (sales manager), elena (administrator), vera (back office)"
    )


@main.command("scaffold", with_appcontext=False)
@click.argument("name")
@click.option("--directory", default=".", show_default=True, type=click.Path(file_okay=False))
def scaffold_command(name: str, directory: str) -> None:
    """Create a new plugin distribution NAME: manifest, a model, a view, a menu, a migration and a
    passing test."""
    from core.scaffold import scaffold

    try:
        path = scaffold(name, directory)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Created {path}. Next: pip install -e {path} && crm module install {name}")


@main.command("routes")
@with_appcontext
def routes_command() -> None:
    """Every route with its module, methods and the permission it declares."""
    from core.permissions import required_permission

    app = current_app
    owners = _crm().runtime.blueprint_owner
    click.echo(f"{'RULE':45} {'METHODS':18} {'MODULE':16} {'PERMISSION':28} ENDPOINT")
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        top = rule.endpoint.split(".")[0]
        view = app.view_functions.get(rule.endpoint)
        needed = required_permission(view, app.blueprints.get(top)) or "(none: refused)"
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            needed = "public"
        methods = ",".join(sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}))
        click.echo(
            f"{rule.rule:45} {methods:18} {owners.get(top, 'core'):16} {needed:28} {rule.endpoint}"
        )


@main.group("attachments")
def attachments_group() -> None:
    """Files attached to records."""


@attachments_group.command("gc")
@click.option(
    "--grace-seconds",
    type=click.IntRange(min=0),
    default=None,
    help="How long a file must stay unreferenced before it is deleted "
    "(default: ATTACHMENT_GRACE_SECONDS, one hour).",
)
@with_appcontext
def attachments_gc(grace_seconds: int | None) -> None:
    """Delete the stored files no attachment references any more (run it from cron).

    Also deletes the attachment rows of records that are gone (deleted by a bulk statement or a
    database cascade). A file found unreferenced is noted, and deleted by a later run once it has
    stayed unreferenced for the grace period: never a file whose row is not committed yet.
    """
    from datetime import timedelta

    from core.attachments import collect_garbage
    from core.db import db_session

    grace = (
        grace_seconds
        if grace_seconds is not None
        else current_app.config["ATTACHMENT_GRACE_SECONDS"]
    )
    report = collect_garbage(
        db_session, grace=timedelta(seconds=grace), registry=current_state().models
    )
    click.echo(
        f"Attachment rows of deleted records removed: {report.rows_of_deleted_records}. "
        f"Files: {report.files_deleted} deleted, {report.files_noted} newly unreferenced, "
        f"{report.files_kept} kept."
    )
