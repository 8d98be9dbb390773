"""What the pages, the API and the commands share: loading and checking a task's values, creating
and changing tasks, the filtered list, and the completion links other modules offer."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from marshmallow import Schema, ValidationError
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, joinedload

from core.models import Group, User, group_permission, user_group
from core.state import current_state
from crm_contacts.agenda import day_start
from crm_contacts.models import Client, Contact, Person
from crm_tasks import workflow
from crm_tasks.hookspecs import TaskLinkOption
from crm_tasks.models import CommitmentType, Task
from crm_tasks.permissions import WRITE


def load_values(
    session: Session, schema: Schema, payload: dict[str, Any], *, task: Task | None = None,
    partial: bool | tuple[str, ...] = False,
) -> dict[str, Any]:  # fmt: skip
    """Validate ``payload`` with ``schema`` and its references; raise ``ValidationError`` with
    every message at once."""
    errors: dict[str, Any] = {}
    try:
        values = schema.load(payload, partial=partial)
    except ValidationError as error:
        errors = dict(error.messages) if isinstance(error.messages, dict) else {}
        values = {k: v for k, v in (error.valid_data or {}).items()}
    errors.update(
        {k: v for k, v in check_references(session, values, task).items() if k not in errors}
    )
    if errors:
        raise ValidationError(errors)
    return values


def check_references(
    session: Session, values: dict[str, Any], task: Task | None = None
) -> dict[str, list[str]]:
    """The referenced records exist, are visible to the user (the session's record rules) and
    belong together: the person and the contact are the client's."""
    errors: dict[str, list[str]] = {}

    def current(name: str) -> Any:
        return values[name] if name in values else getattr(task, name, None)

    client_id = current("client_id")
    if "client_id" in values and client_id is not None and session.get(Client, client_id) is None:
        errors["client_id"] = ["No such client."]
    if "commitment_type_id" in values:
        kind = session.get(CommitmentType, values["commitment_type_id"])
        unchanged = task is not None and task.commitment_type_id == values["commitment_type_id"]
        if kind is None or not (kind.active or unchanged):
            errors["commitment_type_id"] = ["Choose one of the commitment types."]
    for name, model, what in (
        ("person_id", Person, "contact person"),
        ("contact_id", Contact, "contact-history entry"),
    ):
        value = current(name)
        if value is None or (name not in values and "client_id" not in values):
            continue
        record = session.get(model, value)
        if record is None:
            errors[name] = [f"No such {what}."]
        elif record.client_id != client_id:
            errors[name] = [f"The {what} must be of the task's client."]
    assignee = values.get("assigned_to_id")
    if assignee is not None and assignee not in {u.id for u in assignable_users(session)}:
        errors["assigned_to_id"] = ["Choose an active user who works on tasks."]
    return errors


def assignable_users(session: Session) -> list[User]:
    """Active users whose groups hold crm_tasks.write, by name: one query."""
    holds = (
        select(user_group.c.user_id)
        .join(group_permission, group_permission.c.group_id == user_group.c.group_id)
        .where(group_permission.c.permission_code == WRITE)
    )
    admins = (
        select(user_group.c.user_id)
        .join(Group, Group.id == user_group.c.group_id)
        .where(Group.code == "admin")
    )
    return list(
        session.scalars(
            select(User)
            .where(User.active.is_(True), or_(User.id.in_(holds), User.id.in_(admins)))
            .order_by(User.name, User.id)
        )
    )


def active_types(session: Session, keep: int | None = None) -> list[CommitmentType]:
    condition = CommitmentType.active.is_(True)
    if keep is not None:
        condition = or_(condition, CommitmentType.id == keep)
    return list(
        session.scalars(
            select(CommitmentType)
            .where(condition)
            .order_by(CommitmentType.sort_order, CommitmentType.name)
        )
    )


def create_task(session: Session, values: dict[str, Any], user: Any) -> Task:
    task = Task(**values)
    task.assigned_by_id = user.id
    if task.assigned_to_id is None:
        task.assigned_to_id = user.id  # a task for oneself
    session.add(task)
    session.flush()
    workflow.record_creation(session, task, user)
    return task


def update_task(session: Session, task: Task, values: dict[str, Any], user: Any) -> None:
    before = task.assigned_to_id
    for name, value in values.items():
        if name != "version":
            setattr(task, name, value)
    if task.client_id is None:
        task.person_id = task.contact_id = None
    if task.assigned_to_id != before:
        workflow.reassigned(session, task, user)


def with_details(stmt: Select) -> Select:
    """Everything a list row shows, in the same query (no N+1)."""
    return stmt.options(
        joinedload(Task.client),
        joinedload(Task.commitment_type),
        joinedload(Task.assigned_to),
        joinedload(Task.assigned_by),
    )


@dataclass
class Filters:
    """The filters of the lists and the board (query-string arguments)."""

    view: str = "all"  # mine | by_me | all
    commitment_type_id: int | None = None
    client_id: int | None = None
    assigned_to_id: int | None = None
    status: str = "open"  # open | closed | any | a status
    due: str = ""  # overdue | today | week | ""
    due_from: date | None = None
    due_to: date | None = None
    # What the figures of the monitoring page link to: the tasks behind a number.
    no_type: bool = False  # commitment_type_id=none
    unassigned: bool = False  # assigned_to_id=none
    created_before: date | None = None  # created on or before that local day
    completed_from: date | None = None  # completed on or after that local day
    completed_to: date | None = None  # completed on or before that local day

    def apply(self, stmt: Select, user_id: int, today: date) -> Select:
        if self.view == "mine":
            stmt = stmt.where(Task.assigned_to_id == user_id)
        elif self.view == "by_me":
            stmt = stmt.where(Task.assigned_by_id == user_id)
        for name in ("commitment_type_id", "client_id", "assigned_to_id"):
            value = getattr(self, name)
            if value is not None:
                stmt = stmt.where(getattr(Task, name) == value)
        if self.status == "open":
            stmt = stmt.where(Task.status.in_(workflow.OPEN))
        elif self.status == "closed":
            stmt = stmt.where(Task.status.in_(workflow.CLOSED))
        elif self.status in workflow.STATUSES:
            stmt = stmt.where(Task.status == self.status)
        if self.due == "overdue":
            stmt = stmt.where(Task.status.in_(workflow.OPEN), Task.due_date < today)
        elif self.due == "today":
            stmt = stmt.where(Task.due_date == today)
        elif self.due == "week":
            stmt = stmt.where(Task.due_date >= today, Task.due_date <= today + timedelta(days=7))
        if self.due_from is not None:
            stmt = stmt.where(Task.due_date >= self.due_from)
        if self.due_to is not None:
            stmt = stmt.where(Task.due_date <= self.due_to)
        if self.no_type:
            stmt = stmt.where(Task.commitment_type_id.is_(None))
        if self.unassigned:
            stmt = stmt.where(Task.assigned_to_id.is_(None))
        # Local days, as the monitoring's periods count them (crm_tasks.monitoring.Period).
        if self.created_before is not None:
            stmt = stmt.where(Task.created_at < day_start(self.created_before + timedelta(days=1)))
        if self.completed_from is not None:
            stmt = stmt.where(Task.completed_at >= day_start(self.completed_from))
        if self.completed_to is not None:
            stmt = stmt.where(Task.completed_at < day_start(self.completed_to + timedelta(days=1)))
        return stmt


def urgent_first(stmt: Select) -> Select:
    """Open before closed, the earliest due first (no due date last), then the newest."""
    closed = Task.status.in_(workflow.CLOSED)
    return stmt.order_by(closed, Task.due_date.asc().nulls_last(), Task.id.desc())


def as_link_option(item: Any, module: str) -> TaskLinkOption | None:
    """A contribution to crm_tasks_completion_links as a TaskLinkOption: modules that do not
    depend on crm_tasks return plain dicts ``{"model", "record_id", "label", "url"}``."""
    if isinstance(item, TaskLinkOption):
        return replace(item, module=module)
    if isinstance(item, dict) and item.get("model") and item.get("record_id") is not None:
        return TaskLinkOption(
            str(item["model"]),
            item["record_id"],
            str(item.get("label") or f"{item['model']} {item['record_id']}"),
            str(item.get("url") or ""),
            module,
        )
    return None


def link_options(task: Task) -> list[TaskLinkOption]:
    """What the installed modules offer to complete ``task`` with (crm_tasks_completion_links)."""
    from core.plugins import collect

    errors: dict[str, str] = {}
    pairs = collect(current_state().pm, "crm_tasks_completion_links", errors, task=task)
    options = [as_link_option(item, module) for module, item in pairs]
    return [o for o in options if o is not None]


def open_tasks_of_client(client_id: int) -> Select:
    return select(Task).where(Task.client_id == client_id, Task.status.in_(workflow.OPEN))


def count(session: Session, stmt: Select) -> int:
    return session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
