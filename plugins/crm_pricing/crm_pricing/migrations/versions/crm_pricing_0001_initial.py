"""crm_pricing: pricing rules and discount caps

Revision ID: crm_pricing_0001
Revises:
Create Date: 2026-12-01 06:00:00

No ``depends_on`` on crm_sales' branch: installing crm_pricing installs crm_contacts and crm_sales
first, so the tables referred to exist, and a cross-branch dependency would make uninstalling one
module downgrade another (docs/plugins.md, Migrations).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "crm_pricing_0001"
down_revision: str | None = None
branch_labels: Sequence[str] | None = ("crm_pricing",)
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crm_pricing_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("params_json", sa.Text(), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("customer_group_id", sa.Integer(), nullable=True),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("product_group_id", sa.Integer(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["crm_contacts_client.id"],
            name=op.f("fk_crm_pricing_rule_client_id_crm_contacts_client"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_group_id"],
            ["crm_contacts_customer_group.id"],
            name=op.f("fk_crm_pricing_rule_customer_group_id_crm_contacts_customer_group"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["crm_sales_product.id"],
            name=op.f("fk_crm_pricing_rule_product_id_crm_sales_product"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_group_id"],
            ["crm_sales_product_group.id"],
            name=op.f("fk_crm_pricing_rule_product_group_id_crm_sales_product_group"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_pricing_rule")),
    )
    op.create_index(
        "ix_crm_pricing_rule_active_client", "crm_pricing_rule", ["active", "client_id"]
    )
    op.create_index(op.f("ix_crm_pricing_rule_kind"), "crm_pricing_rule", ["kind"])
    op.create_index(
        op.f("ix_crm_pricing_rule_customer_group_id"), "crm_pricing_rule", ["customer_group_id"]
    )
    op.create_index(op.f("ix_crm_pricing_rule_product_id"), "crm_pricing_rule", ["product_id"])
    op.create_index(
        op.f("ix_crm_pricing_rule_product_group_id"), "crm_pricing_rule", ["product_group_id"]
    )
    op.create_table(
        "crm_pricing_cap",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_group_id", sa.Integer(), nullable=True),
        sa.Column("percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_group_id"],
            ["crm_contacts_customer_group.id"],
            name=op.f("fk_crm_pricing_cap_customer_group_id_crm_contacts_customer_group"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_pricing_cap")),
        sa.UniqueConstraint("customer_group_id", name=op.f("uq_crm_pricing_cap_customer_group_id")),
    )


def downgrade() -> None:
    op.drop_table("crm_pricing_cap")
    op.drop_table("crm_pricing_rule")
