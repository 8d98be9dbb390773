"""crm_contacts: clients

Revision ID: crm_contacts_0001
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "crm_contacts_0001"
down_revision: str | None = None
branch_labels: Sequence[str] | None = ("crm_contacts",)
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crm_contacts_client",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(200), nullable=False),
        sa.Column("phone", sa.String(50), nullable=False),
        sa.Column("city", sa.String(100), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("responsible_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["responsible_id"],
            ["core_user.id"],
            name=op.f("fk_crm_contacts_client_responsible_id_core_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_contacts_client")),
    )
    op.create_index(op.f("ix_crm_contacts_client_name"), "crm_contacts_client", ["name"])
    op.create_index(op.f("ix_crm_contacts_client_city"), "crm_contacts_client", ["city"])
    op.create_index(
        op.f("ix_crm_contacts_client_responsible_id"), "crm_contacts_client", ["responsible_id"]
    )


def downgrade() -> None:
    op.drop_table("crm_contacts_client")
