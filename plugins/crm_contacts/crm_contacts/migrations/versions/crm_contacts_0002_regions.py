"""crm_contacts: regions (a configurable list) and a client's region

Revision ID: crm_contacts_0002
Revises: crm_contacts_0001
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "crm_contacts_0002"
down_revision: str | None = "crm_contacts_0001"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crm_contacts_region",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("order", sa.Integer(), nullable=False, server_default="100"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_contacts_region")),
        sa.UniqueConstraint("name", name=op.f("uq_crm_contacts_region_name")),
    )
    with op.batch_alter_table("crm_contacts_client") as batch_op:
        batch_op.add_column(sa.Column("region_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_crm_contacts_client_region_id_crm_contacts_region"),
            "crm_contacts_region",
            ["region_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(batch_op.f("ix_crm_contacts_client_region_id"), ["region_id"])


def downgrade() -> None:
    with op.batch_alter_table("crm_contacts_client") as batch_op:
        batch_op.drop_index(batch_op.f("ix_crm_contacts_client_region_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_crm_contacts_client_region_id_crm_contacts_region"), type_="foreignkey"
        )
        batch_op.drop_column("region_id")
    op.drop_table("crm_contacts_region")
