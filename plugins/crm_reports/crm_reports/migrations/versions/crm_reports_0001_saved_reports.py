"""crm_reports: saved reports and the groups they are shared with

Revision ID: crm_reports_0001
Revises:
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "crm_reports_0001"
down_revision: str | None = None
branch_labels: Sequence[str] | None = ("crm_reports",)
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crm_reports_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["core_user.id"],
            name=op.f("fk_crm_reports_report_owner_id_core_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_reports_report")),
    )
    op.create_index(op.f("ix_crm_reports_report_owner_id"), "crm_reports_report", ["owner_id"])
    op.create_table(
        "crm_reports_report_group",
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["crm_reports_report.id"],
            name=op.f("fk_crm_reports_report_group_report_id_crm_reports_report"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["core_group.id"],
            name=op.f("fk_crm_reports_report_group_group_id_core_group"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("report_id", "group_id", name=op.f("pk_crm_reports_report_group")),
    )


def downgrade() -> None:
    op.drop_table("crm_reports_report_group")
    op.drop_index(op.f("ix_crm_reports_report_owner_id"), table_name="crm_reports_report")
    op.drop_table("crm_reports_report")
