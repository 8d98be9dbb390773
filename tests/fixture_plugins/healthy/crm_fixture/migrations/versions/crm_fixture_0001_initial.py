"""crm_fixture: notes

Revision ID: crm_fixture_0001
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "crm_fixture_0001"
down_revision: str | None = None
branch_labels: Sequence[str] | None = ("crm_fixture",)
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crm_fixture_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.String(2000), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["crm_contacts_client.id"],
            name=op.f("fk_crm_fixture_note_client_id_crm_contacts_client"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_fixture_note")),
    )
    op.create_index(op.f("ix_crm_fixture_note_title"), "crm_fixture_note", ["title"])


def downgrade() -> None:
    op.drop_table("crm_fixture_note")
