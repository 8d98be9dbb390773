"""crm_tasks: commitment types, the workflow status, transitions, assignment, completion links

Revision ID: crm_tasks_0002
Revises: crm_tasks_0001
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "crm_tasks_0002"
down_revision: str | None = "crm_tasks_0001"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

COMMITMENT_TYPES = (
    # code, name, needs_development, order
    ("new_contract", "Conclude a new contract", False, 10),
    ("offer", "Provide an offer", False, 20),
    ("sample", "Develop a sample", True, 30),
    ("test_product", "Develop a test product", True, 40),
    ("invoice", "Issue an invoice", False, 50),
    ("other", "Other", False, 90),
)


def upgrade() -> None:
    types = op.create_table(
        "crm_tasks_commitment_type",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(50), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("needs_development", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_tasks_commitment_type")),
        sa.UniqueConstraint("code", name=op.f("uq_crm_tasks_commitment_type_code")),
    )
    op.bulk_insert(
        types,
        [
            {"code": c, "name": n, "needs_development": d, "active": True, "sort_order": o}
            for c, n, d, o in COMMITMENT_TYPES
        ],
    )
    now = sa.text("CURRENT_TIMESTAMP")
    with op.batch_alter_table("crm_tasks_task") as batch:
        batch.add_column(sa.Column("description", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("person_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("contact_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("commitment_type_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("assigned_to_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("assigned_by_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("priority", sa.String(10), nullable=False, server_default="normal")
        )
        batch.add_column(
            sa.Column("status", sa.String(20), nullable=False, server_default="assigned")
        )
        batch.add_column(
            sa.Column(
                "status_changed_at", sa.DateTime(timezone=True), nullable=False, server_default=now
            )
        )
        batch.add_column(sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("rejection_reason", sa.Text(), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("link_model", sa.String(100), nullable=True))
        batch.add_column(sa.Column("link_record_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("link_label", sa.String(200), nullable=False, server_default=""))
        batch.add_column(sa.Column("link_url", sa.String(500), nullable=False, server_default=""))
        batch.add_column(sa.Column("reminded_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch.create_foreign_key(
            op.f("fk_crm_tasks_task_person_id_crm_contacts_person"),
            "crm_contacts_person",
            ["person_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_foreign_key(
            op.f("fk_crm_tasks_task_contact_id_crm_contacts_contact"),
            "crm_contacts_contact",
            ["contact_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_foreign_key(
            op.f("fk_crm_tasks_task_commitment_type_id_crm_tasks_commitment_type"),
            "crm_tasks_commitment_type",
            ["commitment_type_id"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch.create_foreign_key(
            op.f("fk_crm_tasks_task_assigned_to_id_core_user"),
            "core_user",
            ["assigned_to_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_foreign_key(
            op.f("fk_crm_tasks_task_assigned_by_id_core_user"),
            "core_user",
            ["assigned_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
    # Tasks of the first version: done ones count as completed, the others as assigned; their
    # kind is "other".
    op.execute(
        "UPDATE crm_tasks_task SET status = 'confirmed', completed_at = created_at WHERE done"
    )
    op.execute(
        "UPDATE crm_tasks_task SET commitment_type_id = "
        "(SELECT id FROM crm_tasks_commitment_type WHERE code = 'other')"
    )
    with op.batch_alter_table("crm_tasks_task") as batch:
        batch.drop_column("done")
        for name in (
            "description",
            "priority",
            "status",
            "status_changed_at",
            "rejection_reason",
            "link_label",
            "link_url",
            "version",
        ):
            batch.alter_column(name, server_default=None)
        batch.create_index(
            "ix_crm_tasks_task_assigned_to_status", ["assigned_to_id", "status"], unique=False
        )
        batch.create_index(
            "ix_crm_tasks_task_assigned_by_status", ["assigned_by_id", "status"], unique=False
        )
        batch.create_index("ix_crm_tasks_task_status_due", ["status", "due_date"], unique=False)
        batch.create_index(
            op.f("ix_crm_tasks_task_commitment_type_id"), ["commitment_type_id"], unique=False
        )
    op.create_table(
        "crm_tasks_transition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(20), nullable=True),
        sa.Column("to_status", sa.String(20), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["crm_tasks_task.id"],
            name=op.f("fk_crm_tasks_transition_task_id_crm_tasks_task"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["core_user.id"],
            name=op.f("fk_crm_tasks_transition_user_id_core_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_tasks_transition")),
    )
    op.create_index(op.f("ix_crm_tasks_transition_task_id"), "crm_tasks_transition", ["task_id"])
    op.create_index(op.f("ix_crm_tasks_transition_at"), "crm_tasks_transition", ["at"])


def downgrade() -> None:
    op.drop_table("crm_tasks_transition")
    with op.batch_alter_table("crm_tasks_task") as batch:
        batch.add_column(sa.Column("done", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(
        "UPDATE crm_tasks_task SET done = (status IN ('confirmed', 'rejected', 'cancelled'))"
    )
    with op.batch_alter_table("crm_tasks_task") as batch:
        batch.alter_column("done", server_default=None)
        batch.drop_index(op.f("ix_crm_tasks_task_commitment_type_id"))
        batch.drop_index("ix_crm_tasks_task_status_due")
        batch.drop_index("ix_crm_tasks_task_assigned_by_status")
        batch.drop_index("ix_crm_tasks_task_assigned_to_status")
        for name in (
            "fk_crm_tasks_task_assigned_by_id_core_user",
            "fk_crm_tasks_task_assigned_to_id_core_user",
            "fk_crm_tasks_task_commitment_type_id_crm_tasks_commitment_type",
            "fk_crm_tasks_task_contact_id_crm_contacts_contact",
            "fk_crm_tasks_task_person_id_crm_contacts_person",
        ):
            batch.drop_constraint(name, type_="foreignkey")
        for name in (
            "version",
            "reminded_on",
            "link_url",
            "link_label",
            "link_record_id",
            "link_model",
            "rejection_reason",
            "completed_at",
            "status_changed_at",
            "status",
            "priority",
            "assigned_by_id",
            "assigned_to_id",
            "commitment_type_id",
            "contact_id",
            "person_id",
            "description",
        ):
            batch.drop_column(name)
    op.drop_table("crm_tasks_commitment_type")
