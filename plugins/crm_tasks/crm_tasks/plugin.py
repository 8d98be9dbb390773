"""Manifest and hook implementations of crm_tasks.

The implementations live next to what they concern and are gathered here, where pluggy finds them.
"""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import or_, true

from core import Manifest, MenuItem, ModelDef, Permission, RecordPage, hookimpl
from core.record_rules import RecordRule
from core.reports import ReportDefinition
from crm_tasks import hookspecs
from crm_tasks.commands import crm_commands, crm_jobs, crm_periodic_jobs  # noqa: F401
from crm_tasks.demo import crm_demo_data  # noqa: F401
from crm_tasks.home import crm_home_widgets  # noqa: F401
from crm_tasks.models import CommitmentType, Task, Transition
from crm_tasks.permissions import DELETE, MANAGE, READ, WRITE
from crm_tasks.schemas import CommitmentTypeSchema, TaskSchema, TransitionSchema
from crm_tasks.search import crm_search  # noqa: F401
from crm_tasks.sections import crm_client_file_sections  # noqa: F401

MANIFEST = Manifest(
    name="crm_tasks",
    label="Tasks",
    summary="Tasks and commitments, their statuses, assignment and attachments",
    depends=("crm_contacts",),
    application=True,
)


@hookimpl
def crm_addhooks(pluginmanager):
    pluginmanager.add_hookspecs(hookspecs)


@hookimpl
def crm_models() -> list[ModelDef]:
    return [
        ModelDef(
            Task,
            label="Task",
            schema=TaskSchema,
            page=RecordPage("crm_tasks.task_detail", "task_id"),
        ),
        ModelDef(Transition, label="Task transition", schema=TransitionSchema, owned_by="task_id"),
        ModelDef(CommitmentType, label="Commitment type", schema=CommitmentTypeSchema),
    ]


@hookimpl
def crm_blueprints() -> list[Blueprint]:
    import crm_tasks.views  # noqa: F401 - registers the routes on the blueprints
    from crm_tasks.blueprints import api, bp

    return [bp, api]


@hookimpl
def crm_menus() -> list[MenuItem]:
    return [
        MenuItem("crm_tasks.root", "Tasks", order=20),
        MenuItem("crm_tasks.mine", "My tasks", endpoint="crm_tasks.task_list",
                 parent="crm_tasks.root", order=10, permission=READ),
        MenuItem("crm_tasks.by_me", "Tasks I assigned", endpoint="crm_tasks.assigned_by_me",
                 parent="crm_tasks.root", order=20, permission=READ),
        MenuItem("crm_tasks.board", "Board", endpoint="crm_tasks.board",
                 parent="crm_tasks.root", order=30, permission=READ),
        MenuItem("crm_tasks.new", "New task", endpoint="crm_tasks.task_new",
                 parent="crm_tasks.root", order=40, permission=WRITE),
        MenuItem("crm_tasks.monitoring", "Monitoring commitments",
                 endpoint="crm_tasks.monitoring", parent="crm_tasks.root", order=50,
                 permission=MANAGE),
        MenuItem("crm_tasks.types", "Commitment types", endpoint="crm_tasks.type_list",
                 parent="core.settings", order=55, permission=MANAGE),
    ]  # fmt: skip


@hookimpl
def crm_permissions() -> list[Permission]:
    everyone = ("sales_manager", "sales_rep", "back_office")
    return [
        Permission(READ, "Read tasks", groups=everyone),
        Permission(WRITE, "Create tasks, move them through their workflow", groups=everyone),
        Permission(DELETE, "Delete tasks", groups=("sales_manager",)),
        Permission(
            MANAGE,
            "Monitor commitments, see every task, edit commitment types",
            groups=("sales_manager",),
        ),
    ]


@hookimpl
def crm_record_rules() -> list[RecordRule]:
    return [
        RecordRule(
            "crm_tasks.own_tasks",
            "Representatives and back office see the tasks assigned to them or by them",
            Task,
            groups=("sales_rep", "back_office"),
            criteria=lambda user: or_(
                Task.assigned_to_id == user.id, Task.assigned_by_id == user.id
            ),
        ),
        # Managers see every task, even when they are representatives too.
        RecordRule(
            "crm_tasks.all_tasks",
            "Sales managers see all tasks",
            Task,
            groups=("sales_manager",),
            criteria=lambda user: true(),
        ),
    ]


@hookimpl
def crm_reports() -> list[ReportDefinition]:
    return [
        ReportDefinition(
            id="crm_tasks.commitments_type_status",
            title="Commitments by type and status",
            model=Task.__tablename__,
            order=10,
            spec={
                "filters": [{"field": "commitment_type_id", "op": "is_not_empty"}],
                "group_by": [{"field": "commitment_type.name"}, {"field": "status"}],
                "measures": [{"field": "id", "agg": "count"}],
                "pivot": "status",
                "chart": {"type": "heatmap"},
            },
        ),
        ReportDefinition(
            id="crm_tasks.commitments_by_status",
            title="Commitments by status and representative",
            model="crm_tasks_task",
            columns=("commitment_type_id", "status", "assigned_to_id", "due_date", "client_id"),
            filters=("commitment_type_id", "status", "assigned_to_id", "due_date", "created_at"),
            group_by=("status", "assigned_to_id"),
            aggregates={"id": "count"},
            chart="bar",
        ),
        ReportDefinition(
            id="crm_tasks.commitments_by_type",
            title="Commitments by type and status",
            model="crm_tasks_task",
            columns=("commitment_type_id", "status", "completed_at"),
            filters=("status", "assigned_to_id", "completed_at", "created_at"),
            group_by=("commitment_type_id", "status"),
            aggregates={"id": "count"},
            chart="bar",
        ),
    ]
