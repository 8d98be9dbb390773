"""crm_sales: net amount, month and representative on sales lines, for reports

Revision ID: crm_sales_0002
Revises: crm_sales_0001
Create Date: 2026-12-01 05:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "crm_sales_0002"
down_revision: str | None = "crm_sales_0001"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("crm_sales_line") as batch:
        batch.add_column(
            sa.Column("net_amount", sa.Numeric(16, 2), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("month", sa.String(length=7), nullable=False, server_default=""))
        batch.add_column(sa.Column("responsible_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_crm_sales_line_responsible_id_core_user"),
            "core_user",
            ["responsible_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index(batch.f("ix_crm_sales_line_responsible_id"), ["responsible_id"])
    # Lines written before this revision: fill the new columns from what they hold.
    op.execute(
        "UPDATE crm_sales_line SET net_amount = signed_cents / 100.0, "
        "month = substr(CAST(date AS VARCHAR(10)), 1, 7), "
        "responsible_id = (SELECT responsible_id FROM crm_contacts_client "
        "WHERE crm_contacts_client.id = crm_sales_line.client_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("crm_sales_line") as batch:
        batch.drop_index(batch.f("ix_crm_sales_line_responsible_id"))
        batch.drop_constraint(
            batch.f("fk_crm_sales_line_responsible_id_core_user"), type_="foreignkey"
        )
        batch.drop_column("responsible_id")
        batch.drop_column("month")
        batch.drop_column("net_amount")
