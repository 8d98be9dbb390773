"""core: one-time tokens of create forms (core/form_once.py)

Revision ID: core_0007
Revises: core_0006
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "core_0007"
down_revision: str | None = "core_0006"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "core_form_submission",
        sa.Column("token", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("location", sa.String(500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_core_form_submission_created_at", "core_form_submission", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_core_form_submission_created_at", "core_form_submission")
    op.drop_table("core_form_submission")
