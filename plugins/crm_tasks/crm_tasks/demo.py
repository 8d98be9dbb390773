"""Demo tasks: commitments of the demo representatives to the demo clients, in every status, with
their history, due dates relative to today. The same every time (seeded)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import hookimpl
from core.models import User
from crm_contacts.models import Client
from crm_tasks import workflow
from crm_tasks.models import PRIORITIES, CommitmentType, Task, Transition

TITLES = {
    "new_contract": ("Conclude the supply contract for {year}", "Renew the framework contract"),
    "offer": ("Send an offer for the new range", "Offer for 500 units with 10-day payment"),
    "sample": ("Develop a sample of the premium blend", "Sample in the client's packaging"),
    "test_product": ("Test batch for the client's line", "Develop a test product, low sugar"),
    "invoice": ("Issue the invoice for the March delivery", "Credit note for the returned goods"),
    "other": ("Deliver the brochures", "Agree the delivery schedule"),
}
REASONS = (
    "The client chose a cheaper supplier.",
    "Price above their budget for this year.",
    "The sample did not pass their lab tests.",
    "The project was postponed by the client.",
)
# Where the path of a task ends, in a fixed mix: mostly open and confirmed, some refused.
ENDINGS = (
    workflow.ASSIGNED, workflow.IN_PROGRESS, workflow.CONFIRMED, workflow.IN_DEVELOPMENT,
    workflow.REJECTED, workflow.CONFIRMED, workflow.IN_PROGRESS, workflow.ASSIGNED,
    workflow.CONFIRMED, workflow.CANCELLED, workflow.REJECTED, workflow.IN_PROGRESS,
    workflow.CONFIRMED,
)  # fmt: skip


def _path(end: str, needs_development: bool) -> list[str]:
    if end == workflow.ASSIGNED:
        return []
    if end == workflow.CANCELLED:
        return [workflow.IN_PROGRESS, workflow.CANCELLED]
    steps = [workflow.IN_PROGRESS]
    if needs_development and end != workflow.IN_PROGRESS:
        steps.append(workflow.IN_DEVELOPMENT)
    if end in (workflow.CONFIRMED, workflow.REJECTED):
        steps.append(end)
    return steps


@hookimpl
def crm_demo_data(session: Session, scale: int) -> None:
    rng = random.Random(11)  # the same demo every time
    clients = session.execute(select(Client.id, Client.responsible_id).order_by(Client.id)).all()
    users = {u.login: u.id for u in session.scalars(select(User))}
    reps = [users[n] for n in ("maria", "peter") if n in users]
    manager = users.get("georgi")
    types = session.scalars(select(CommitmentType).order_by(CommitmentType.sort_order)).all()
    if not types or not (reps or manager):
        return
    today = date.today()
    for i in range(40 * scale):
        kind = types[i % len(types)]
        client = rng.choice(clients) if clients and rng.random() < 0.9 else None
        assignee = (client.responsible_id if client and client.responsible_id else None) or (
            rng.choice(reps) if reps else manager
        )
        assigner = manager if manager and rng.random() < 0.6 else assignee
        created = datetime.combine(
            today - timedelta(days=rng.randint(1, 150)), time(9, rng.randint(0, 59)), UTC
        )
        titles = TITLES.get(kind.code, TITLES["other"])
        task = Task(
            title=rng.choice(titles).format(year=today.year + 1),
            description="",
            client_id=client.id if client else None,
            commitment_type_id=kind.id,
            assigned_to_id=assignee,
            assigned_by_id=assigner,
            due_date=created.date() + timedelta(days=rng.randint(5, 60)),
            priority=rng.choice(PRIORITIES),
            created_at=created,
            status=workflow.ASSIGNED,
            status_changed_at=created,
        )
        session.add(task)
        steps = [Transition(task=task, from_status=None, to_status=workflow.ASSIGNED,
                            user_id=assigner, at=created)]  # fmt: skip
        moment = created
        end = ENDINGS[i % len(ENDINGS)]
        for status in _path(end, kind.needs_development):
            moment = min(moment + timedelta(days=rng.randint(1, 12)), datetime.now(UTC))
            comment = rng.choice(REASONS) if status == workflow.REJECTED else ""
            steps.append(Transition(task=task, from_status=task.status, to_status=status,
                                    user_id=assignee, at=moment, comment=comment))  # fmt: skip
            task.status, task.status_changed_at = status, moment
            if status in (workflow.CONFIRMED, workflow.REJECTED):
                task.completed_at = moment
            if status == workflow.REJECTED:
                task.rejection_reason = comment
        session.add_all(steps)
