"""crm_tasks: tasks

Revision ID: crm_tasks_0001
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "crm_tasks_0001"
down_revision: str | None = None
branch_labels: Sequence[str] | None = ("crm_tasks",)
# crm_contacts_client exists already: modules are installed and upgraded in dependency order.
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crm_tasks_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["crm_contacts_client.id"],
            name=op.f("fk_crm_tasks_task_client_id_crm_contacts_client"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_tasks_task")),
    )
    op.create_index(op.f("ix_crm_tasks_task_client_id"), "crm_tasks_task", ["client_id"])


def downgrade() -> None:
    op.drop_table("crm_tasks_task")
