"""Manifest and hook implementations of crm_tasks."""

from __future__ import annotations

import random
from datetime import date, timedelta

from flask import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import Manifest, MenuItem, ModelDef, Permission, hookimpl
from crm_contacts.models import Client
from crm_tasks.models import Task
from crm_tasks.schemas import TaskSchema

MANIFEST = Manifest(
    name="crm_tasks",
    summary="Tasks and commitments, their statuses, assignment and attachments",
    depends=("crm_contacts",),
    application=True,
)


@hookimpl
def crm_models() -> list[ModelDef]:
    return [ModelDef(Task, label="Task", schema=TaskSchema)]


@hookimpl
def crm_blueprints() -> list[Blueprint]:
    from crm_tasks.views import bp

    return [bp]


@hookimpl
def crm_menus() -> list[MenuItem]:
    return [
        MenuItem("crm_tasks.root", "Tasks", order=20),
        MenuItem(
            "crm_tasks.tasks",
            "All tasks",
            endpoint="crm_tasks.task_list",
            parent="crm_tasks.root",
            order=10,
            permission="crm_tasks.read",
        ),
    ]


@hookimpl
def crm_permissions() -> list[Permission]:
    return [
        Permission(
            "crm_tasks.read",
            "Read tasks",
            groups=("sales_manager", "sales_rep", "back_office"),
        ),
        Permission(
            "crm_tasks.write",
            "Create and edit tasks",
            groups=("sales_manager", "sales_rep", "back_office"),
        ),
    ]


_TITLES = (
    "Call about the new price list",
    "Send the offer",
    "Visit the warehouse",
    "Prepare the contract renewal",
    "Remind of the overdue invoice",
    "Deliver the brochures",
    "Agree the delivery schedule",
    "Present the new product line",
    "Collect the signed order",
    "Ask for feedback on the last delivery",
)


@hookimpl
def crm_demo_data(session: Session, scale: int) -> None:
    rng = random.Random(7)  # the same demo every time
    client_ids = session.scalars(select(Client.id).order_by(Client.id)).all()
    # Due dates relative to today, so that a fresh demo always has overdue and upcoming tasks.
    today = date.today()
    for i in range(30 * scale):
        session.add(
            Task(
                title=_TITLES[i % len(_TITLES)],
                client_id=rng.choice(client_ids) if client_ids and rng.random() < 0.9 else None,
                due_date=today + timedelta(days=rng.randint(-20, 40))
                if rng.random() < 0.8
                else None,
                done=rng.random() < 0.3,
            )
        )
