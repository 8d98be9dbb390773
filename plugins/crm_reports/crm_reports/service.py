"""What the pages, the API, the CLI and the export job share: which models a user may report on,
running a spec as that user, saved and ready-made reports."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask, abort, g
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from core.auth import has_permission, user_groups
from core.models import Group, User, user_group
from core.record_rules import ADMIN_GROUP, RuleUser, activate
from core.report_fields import USER_TARGET, Fields, SpecError, Target
from core.report_spec import Spec, parse
from core.reports import ReportDefinition
from core.state import current_state
from core.timezone import local_today, zone_name
from crm_reports.engine import Runner
from crm_reports.models import SavedReport
from crm_reports.permissions import WRITE
from crm_reports.statement import Context


def _state():

    return current_state()


def readable_modules(user: Any) -> set[str]:
    """The installed modules whose read permission ``user`` holds: what they may report on."""
    return {m for m in _state().installed if has_permission(f"{m}.read", user)}


def fields_for(user: Any) -> Fields:
    return Fields(_state().models, readable_modules(user))


def reportable_models(fields: Fields) -> list[Target]:
    targets = [fields.target(m.name) for m in fields.registry]
    return sorted(
        (t for t in targets if t is not None and fields.may_read(t.owner)), key=lambda t: t.label
    )


def context(session: Session) -> Context:
    return Context(session.get_bind().dialect.name, zone_name(), local_today())


def label_columns(fields: Fields) -> dict[str, str]:
    targets = [fields.target(m.name) for m in fields.registry] + [USER_TARGET]
    return {t.name: fields.label_column(t) for t in targets if t is not None}


def check(raw: Any, user: Any) -> Spec:
    """The spec, checked for ``user``: SpecError (400) or SpecForbidden (403) naming the part."""
    return parse(raw, fields_for(user))


def runner(raw: Any, user: Any, session: Session) -> Runner:
    fields = fields_for(user)
    return Runner(parse(raw, fields), session, context(session), label_columns(fields))


@contextmanager
def as_user(app: Flask, user: User) -> Iterator[None]:
    """Run as ``user`` outside a web request (CLI, background job): the record rules of the
    user's groups apply to every query of the block, as they do in the user's own requests."""
    with app.test_request_context():
        state = _state()
        activate(state.enabled_record_rules, RuleUser(user.id, user_groups(user)))
        g._login_user = user  # flask-login's current_user for the block
        yield


# -- ready-made reports --------------------------------------------------------------------------


def ready_made(user: Any) -> list[ReportDefinition]:
    """The installed modules' definitions ``user`` may run (their model is readable)."""
    fields = fields_for(user)
    out = []
    for definition in _state().reports:
        try:
            parse(definition.as_spec(), fields)
        except SpecError:
            continue
        out.append(definition)
    return out


def find_ready_made(report_id: str, user: Any) -> ReportDefinition:
    for definition in ready_made(user):
        if definition.id == report_id:
            return definition
    abort(404)


# -- saved reports ---------------------------------------------------------------------------------


def is_admin(user: Any) -> bool:
    return ADMIN_GROUP in user_groups(user)


def visible_reports(session: Session, user: Any) -> list[SavedReport]:
    """The user's own reports and those shared with one of their groups."""
    stmt = select(SavedReport).options(
        selectinload(SavedReport.groups), selectinload(SavedReport.owner)
    )
    if not is_admin(user):
        shared = (
            select(user_group.c.group_id).where(user_group.c.user_id == user.id).scalar_subquery()
        )
        stmt = stmt.where(
            or_(SavedReport.owner_id == user.id, SavedReport.groups.any(Group.id.in_(shared)))
        )
    return list(session.scalars(stmt.order_by(SavedReport.name, SavedReport.id)))


def find_saved(session: Session, report_id: int, user: Any) -> SavedReport:
    for report in visible_reports(session, user):
        if report.id == report_id:
            return report
    abort(404)


def may_edit(report: SavedReport, user: Any) -> bool:
    return has_permission(WRITE, user) and (report.owner_id == user.id or is_admin(user))


@dataclass(frozen=True)
class ReportEntry:
    """A line of the list of reports: saved (``id`` an int) or ready-made (``id`` a string)."""

    id: int | str
    kind: str
    title: str
    module: str
    description: str
    spec: dict[str, Any]
    owner: str | None = None
    groups: tuple[str, ...] = ()


def entries(session: Session, user: Any) -> list[ReportEntry]:
    saved = [
        ReportEntry(
            r.id,
            "saved",
            r.name,
            "",
            r.description,
            r.spec,
            r.owner.name,
            tuple(g.code for g in r.groups),
        )  # fmt: skip
        for r in visible_reports(session, user)
    ]
    made = [
        ReportEntry(d.id, "ready_made", d.title, d.module, d.description, d.as_spec())
        for d in ready_made(user)
    ]
    return saved + made


def spec_of(session: Session, report_id: str, user: Any) -> tuple[str, dict[str, Any]]:
    """(title, spec) of a saved report (numeric id) or a ready-made one (``module.name``)."""
    if report_id.isdigit():
        report = find_saved(session, int(report_id), user)
        return report.name, report.spec
    definition = find_ready_made(report_id, user)
    return definition.title, definition.as_spec()


def groups_by_code(session: Session, codes: list[str]) -> list[Group]:
    found = list(session.scalars(select(Group).where(Group.code.in_(codes)))) if codes else []
    unknown = sorted(set(codes) - {g.code for g in found})
    if unknown:
        raise SpecError("groups", f"unknown group(s): {', '.join(unknown)}")
    return found
