"""crm_pricing: where each client stands against each turnover-tier rule, for reports

Revision ID: crm_pricing_0002
Revises: crm_pricing_0001
Create Date: 2026-12-05 00:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "crm_pricing_0002"
down_revision: str | None = "crm_pricing_0001"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crm_pricing_client_tier",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(length=100), nullable=False),
        sa.Column("percent", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("turnover", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("period", sa.String(length=50), nullable=False),
        sa.Column("computed_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["rule_id"], ["crm_pricing_rule.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["client_id"], ["crm_contacts_client.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_crm_pricing_client_tier_rule_id", "crm_pricing_client_tier", ["rule_id"])
    op.create_index(
        "ix_crm_pricing_client_tier_client_id", "crm_pricing_client_tier", ["client_id"]
    )


def downgrade() -> None:
    op.drop_table("crm_pricing_client_tier")
