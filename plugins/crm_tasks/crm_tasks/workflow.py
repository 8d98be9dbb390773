"""The workflow of a task: its statuses, the transitions allowed between them, and what a
transition does (history, completion fields, notifications).

    assigned ─► in progress ─► in development (samples, test products) ─► completed/confirmed
        │            │  ▲               │                                 completed/rejected
        └─► cancelled ◄┴──┴─────────────┘                  reopen ◄─ completed or cancelled

The server enforces it: ``transition`` refuses a move that ``allowed`` does not list, whoever asks
(the task page's buttons, the board, the JSON API).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import url_for
from sqlalchemy.orm import Session

from core.models import utcnow
from core.notifications import notify
from crm_tasks.hookspecs import TaskLinkOption
from crm_tasks.models import Task, Transition

ASSIGNED = "assigned"
IN_PROGRESS = "in_progress"
IN_DEVELOPMENT = "in_development"
CONFIRMED = "confirmed"
REJECTED = "rejected"
CANCELLED = "cancelled"

STATUSES = (ASSIGNED, IN_PROGRESS, IN_DEVELOPMENT, CONFIRMED, REJECTED, CANCELLED)
OPEN = (ASSIGNED, IN_PROGRESS, IN_DEVELOPMENT)
CLOSED = (CONFIRMED, REJECTED, CANCELLED)
LABELS = {
    ASSIGNED: "Assigned",
    IN_PROGRESS: "In progress",
    IN_DEVELOPMENT: "In development",
    CONFIRMED: "Completed — confirmed",
    REJECTED: "Completed — rejected",
    CANCELLED: "Cancelled",
}
# What the button that leads to a status says.
ACTIONS = {
    IN_PROGRESS: "Start",
    IN_DEVELOPMENT: "Into development",
    CONFIRMED: "Complete — confirmed",
    REJECTED: "Complete — rejected",
    CANCELLED: "Cancel",
}
BADGES = {
    ASSIGNED: "secondary",
    IN_PROGRESS: "primary",
    IN_DEVELOPMENT: "info",
    CONFIRMED: "success",
    REJECTED: "danger",
    CANCELLED: "dark",
}
_FLOW = {
    ASSIGNED: (IN_PROGRESS, CANCELLED),
    IN_PROGRESS: (IN_DEVELOPMENT, CONFIRMED, REJECTED, CANCELLED),
    IN_DEVELOPMENT: (IN_PROGRESS, CONFIRMED, REJECTED, CANCELLED),
    # Reopen: back to work.
    CONFIRMED: (IN_PROGRESS,),
    REJECTED: (IN_PROGRESS,),
    CANCELLED: (IN_PROGRESS,),
}


class WorkflowError(ValueError):
    """A refused transition: ``errors`` is ``{field: [message]}`` for the form or the API."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def label(status: str) -> str:
    return LABELS.get(status, status)


def action_label(task: Task, status: str) -> str:
    if status == IN_PROGRESS and task.status in CLOSED:
        return "Reopen"
    if status == IN_PROGRESS and task.status == IN_DEVELOPMENT:
        return "Back to in progress"
    return ACTIONS.get(status, label(status))


def allowed(task: Task) -> tuple[str, ...]:
    """The statuses ``task`` may move to now."""
    needs_development = bool(task.commitment_type and task.commitment_type.needs_development)
    return tuple(s for s in _FLOW.get(task.status, ()) if s != IN_DEVELOPMENT or needs_development)


def is_overdue(task: Task, today: date) -> bool:
    return task.status in OPEN and task.due_date is not None and task.due_date < today


@dataclass
class Change:
    """What a transition asks for: the target, a comment (the reason of a refusal) and the
    chosen completion link."""

    to: str
    comment: str = ""
    link: str = ""


def record_creation(session: Session, task: Task, user: Any) -> None:
    """The first line of a new task's history, and the assignee's notification."""
    session.add(Transition(task=task, from_status=None, to_status=task.status, user_id=_id(user)))
    _notify_assignee(session, task, user)


def reassigned(session: Session, task: Task, user: Any) -> None:
    """Tell the new assignee (call after changing ``assigned_to_id``)."""
    _notify_assignee(session, task, user)


def transition(
    session: Session,
    task: Task,
    change: Change,
    user: Any,
    link_options: list[TaskLinkOption] = (),  # type: ignore[assignment]
) -> Transition:
    """Move ``task`` to ``change.to``, or raise ``WorkflowError`` naming the field."""
    to = change.to
    comment = (change.comment or "").strip()
    if to not in STATUSES:
        raise WorkflowError({"to": [f"Unknown status. One of: {', '.join(STATUSES)}."]})
    if to not in allowed(task):
        possible = ", ".join(label(s) for s in allowed(task)) or "none"
        raise WorkflowError(
            {
                "to": [
                    f"A task that is “{label(task.status)}” cannot become “{label(to)}”. "
                    f"Possible: {possible}."
                ]
            }
        )
    if to == REJECTED and not comment:
        raise WorkflowError({"comment": ["Give the client's reason for refusing."]})
    if len(comment) > 5000:
        raise WorkflowError({"comment": ["At most 5000 characters."]})
    chosen: TaskLinkOption | None = None
    if change.link:
        if to != CONFIRMED:
            raise WorkflowError({"link": ["Only a confirmed completion links a record."]})
        chosen = next((o for o in link_options if o.key == change.link), None)
        if chosen is None:
            raise WorkflowError({"link": ["Choose one of the records offered for this task."]})
    now = utcnow()
    step = Transition(
        task=task, from_status=task.status, to_status=to, user_id=_id(user), at=now, comment=comment
    )
    session.add(step)
    task.status = to
    task.status_changed_at = now
    if to in (CONFIRMED, REJECTED):
        task.completed_at = now
    elif to == IN_PROGRESS:
        task.completed_at = None
    if to == REJECTED:
        task.rejection_reason = comment
    elif to != CANCELLED:
        task.rejection_reason = ""
    if chosen is not None:
        task.link_model, task.link_record_id = chosen.model, str(chosen.record_id)
        task.link_label, task.link_url = chosen.label[:200], chosen.url[:500]
    elif to == IN_PROGRESS:
        task.link_model = task.link_record_id = None
        task.link_label = task.link_url = ""
    _notify_assigner(session, task, user, to)
    return step


def _id(user: Any) -> int | None:
    return getattr(user, "id", user)


def _who(user: Any) -> str:
    return getattr(user, "name", None) or "Someone"


def _url(task: Task) -> str:
    return url_for("crm_tasks.task_detail", task_id=task.id)


def _notify_assignee(session: Session, task: Task, user: Any) -> None:
    if task.assigned_to_id is None or task.assigned_to_id == _id(user):
        return
    session.flush()  # the task's id, for the link
    due = f", due {task.due_date.isoformat()}" if task.due_date else ""
    text = f"{_who(user)} assigned you “{task.title}”{due}"
    notify(session, task.assigned_to_id, text, _url(task))


def _notify_assigner(session: Session, task: Task, user: Any, to: str) -> None:
    if task.assigned_by_id is None or task.assigned_by_id == _id(user):
        return
    session.flush()
    text = f"{_who(user)} moved “{task.title}” to {label(to)}"
    if to == REJECTED:
        text += f": {task.rejection_reason}"
    notify(session, task.assigned_by_id, text, _url(task))
