"""core: attachments (and orphaned files awaiting clean-up), notifications

Revision ID: core_0003
Revises: core_0002
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "core_0003"
down_revision: str | None = "core_0002"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "core_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("record_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(150), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["core_user.id"],
            name=op.f("fk_core_attachment_created_by_id_core_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_attachment")),
    )
    op.create_index("ix_core_attachment_model_record", "core_attachment", ["model", "record_id"])
    op.create_index(op.f("ix_core_attachment_sha256"), "core_attachment", ["sha256"])
    op.create_table(
        "core_attachment_orphan",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_core_attachment_orphan")),
    )
    op.create_table(
        "core_notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(500), nullable=False),
        sa.Column("url", sa.String(500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["core_user.id"],
            name=op.f("fk_core_notification_user_id_core_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_notification")),
    )
    op.create_index("ix_core_notification_user_read", "core_notification", ["user_id", "read_at"])


def downgrade() -> None:
    op.drop_index("ix_core_notification_user_read", table_name="core_notification")
    op.drop_table("core_notification")
    op.drop_table("core_attachment_orphan")
    op.drop_index(op.f("ix_core_attachment_sha256"), table_name="core_attachment")
    op.drop_index("ix_core_attachment_model_record", table_name="core_attachment")
    op.drop_table("core_attachment")
