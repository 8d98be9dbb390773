"""crm_sales: product groups, products, sales documents, lines and payments

Revision ID: crm_sales_0001
Revises:
Create Date: 2026-12-01 05:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "crm_sales_0001"
down_revision: str | None = None
branch_labels: Sequence[str] | None = ("crm_sales",)
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crm_sales_product_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["crm_sales_product_group.id"],
            name=op.f("fk_crm_sales_product_group_parent_id_crm_sales_product_group"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_sales_product_group")),
        sa.UniqueConstraint("code", name=op.f("uq_crm_sales_product_group_code")),
    )
    op.create_index(
        op.f("ix_crm_sales_product_group_parent_id"), "crm_sales_product_group", ["parent_id"]
    )
    op.create_index(op.f("ix_crm_sales_product_group_path"), "crm_sales_product_group", ["path"])

    op.create_table(
        "crm_sales_product",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("list_price", sa.Numeric(14, 4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["crm_sales_product_group.id"],
            name=op.f("fk_crm_sales_product_group_id_crm_sales_product_group"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_sales_product")),
        sa.UniqueConstraint("code", name=op.f("uq_crm_sales_product_code")),
    )
    op.create_index(op.f("ix_crm_sales_product_name"), "crm_sales_product", ["name"])
    op.create_index(op.f("ix_crm_sales_product_group_id"), "crm_sales_product", ["group_id"])

    op.create_table(
        "crm_sales_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=50), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rate", sa.Numeric(18, 8), nullable=False),
        sa.Column("total", sa.Numeric(16, 2), nullable=False),
        sa.Column("total_local", sa.Numeric(16, 2), nullable=False),
        sa.Column("paid", sa.Numeric(16, 2), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["crm_contacts_client.id"],
            name=op.f("fk_crm_sales_document_client_id_crm_contacts_client"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_sales_document")),
        sa.UniqueConstraint("number", name=op.f("uq_crm_sales_document_number")),
    )
    op.create_index(
        "ix_crm_sales_document_client_date", "crm_sales_document", ["client_id", "date"]
    )
    op.create_index(op.f("ix_crm_sales_document_date"), "crm_sales_document", ["date"])

    op.create_table(
        "crm_sales_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Numeric(14, 4), nullable=False),
        sa.Column("unit_price", sa.Numeric(14, 4), nullable=False),
        sa.Column("discount_percent", sa.Numeric(5, 2), nullable=False),
        sa.Column("amount", sa.Numeric(16, 2), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("signed_cents", sa.BigInteger(), nullable=False),
        sa.Column("signed_quantity", sa.Numeric(14, 4), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["crm_sales_document.id"],
            name=op.f("fk_crm_sales_line_document_id_crm_sales_document"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["crm_sales_product.id"],
            name=op.f("fk_crm_sales_line_product_id_crm_sales_product"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["crm_contacts_client.id"],
            name=op.f("fk_crm_sales_line_client_id_crm_contacts_client"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["crm_sales_product_group.id"],
            name=op.f("fk_crm_sales_line_group_id_crm_sales_product_group"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_sales_line")),
    )
    op.create_index(op.f("ix_crm_sales_line_document_id"), "crm_sales_line", ["document_id"])
    op.create_index(op.f("ix_crm_sales_line_product_id"), "crm_sales_line", ["product_id"])
    op.create_index(op.f("ix_crm_sales_line_group_id"), "crm_sales_line", ["group_id"])
    op.create_index(
        "ix_crm_sales_line_client_date",
        "crm_sales_line",
        ["client_id", "date", "product_id", "group_id", "signed_cents", "signed_quantity"],
    )
    op.create_index(
        "ix_crm_sales_line_date", "crm_sales_line", ["date", "client_id", "signed_cents"]
    )

    op.create_table(
        "crm_sales_payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(16, 2), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["crm_sales_document.id"],
            name=op.f("fk_crm_sales_payment_document_id_crm_sales_document"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_sales_payment")),
    )
    op.create_index(op.f("ix_crm_sales_payment_document_id"), "crm_sales_payment", ["document_id"])


def downgrade() -> None:
    op.drop_table("crm_sales_payment")
    op.drop_table("crm_sales_line")
    op.drop_table("crm_sales_document")
    op.drop_table("crm_sales_product")
    # The tree refers to itself (ON DELETE RESTRICT): SQLite's DROP TABLE deletes row by row.
    op.execute("UPDATE crm_sales_product_group SET parent_id = NULL")
    op.drop_table("crm_sales_product_group")
