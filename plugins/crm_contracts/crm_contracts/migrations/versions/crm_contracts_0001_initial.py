"""crm_contracts: contract types, settings, number sequence, contracts, conditions, reminders

Revision ID: crm_contracts_0001
Revises:
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "crm_contracts_0001"
down_revision: str | None = None
branch_labels: Sequence[str] | None = ("crm_contracts",)
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crm_contracts_type",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("order", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_contracts_type")),
        sa.UniqueConstraint("code", name=op.f("uq_crm_contracts_type_code")),
    )
    op.create_table(
        "crm_contracts_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number_prefix", sa.String(length=20), nullable=False),
        sa.Column("number_digits", sa.Integer(), nullable=False),
        sa.Column("expiring_days", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_contracts_settings")),
    )
    op.create_table(
        "crm_contracts_sequence",
        sa.Column("prefix", sa.String(length=20), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("prefix", "year", name=op.f("pk_crm_contracts_sequence")),
    )
    op.create_table(
        "crm_contracts_contract",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("type_id", sa.Integer(), nullable=True),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("notice_days", sa.Integer(), nullable=True),
        sa.Column("value", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("payment_term_days", sa.Integer(), nullable=True),
        sa.Column("responsible_id", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("terminated_on", sa.Date(), nullable=True),
        sa.Column("termination_reason", sa.Text(), nullable=False),
        sa.Column("predecessor_id", sa.Integer(), nullable=True),
        sa.Column("successor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["crm_contacts_client.id"],
            name=op.f("fk_crm_contracts_contract_client_id_crm_contacts_client"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["type_id"],
            ["crm_contracts_type.id"],
            name=op.f("fk_crm_contracts_contract_type_id_crm_contracts_type"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["responsible_id"],
            ["core_user.id"],
            name=op.f("fk_crm_contracts_contract_responsible_id_core_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["predecessor_id"],
            ["crm_contracts_contract.id"],
            name=op.f("fk_crm_contracts_contract_predecessor_id_crm_contracts_contract"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["successor_id"],
            ["crm_contracts_contract.id"],
            name=op.f("fk_crm_contracts_contract_successor_id_crm_contracts_contract"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_contracts_contract")),
        sa.UniqueConstraint("number", name=op.f("uq_crm_contracts_contract_number")),
    )
    for column in ("client_id", "type_id", "valid_to", "responsible_id", "predecessor_id",
                   "successor_id"):  # fmt: skip
        op.create_index(
            op.f(f"ix_crm_contracts_contract_{column}"), "crm_contracts_contract", [column]
        )
    op.create_table(
        "crm_contracts_condition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("product_code", sa.String(length=50), nullable=False),
        sa.Column("product_name", sa.String(length=200), nullable=False),
        sa.Column("group_code", sa.String(length=50), nullable=False),
        sa.Column("group_name", sa.String(length=200), nullable=False),
        sa.Column("price", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("discount_percent", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["crm_contracts_contract.id"],
            name=op.f("fk_crm_contracts_condition_contract_id_crm_contracts_contract"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_contracts_condition")),
    )
    for column in ("contract_id", "product_code", "group_code"):
        op.create_index(
            op.f(f"ix_crm_contracts_condition_{column}"), "crm_contracts_condition", [column]
        )
    op.create_table(
        "crm_contracts_reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["crm_contracts_contract.id"],
            name=op.f("fk_crm_contracts_reminder_contract_id_crm_contracts_contract"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["core_user.id"],
            name=op.f("fk_crm_contracts_reminder_user_id_core_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_contracts_reminder")),
        sa.UniqueConstraint(
            "contract_id", "ends_on", name=op.f("uq_crm_contracts_reminder_contract_id_ends_on")
        ),
    )
    op.create_index(
        op.f("ix_crm_contracts_reminder_contract_id"), "crm_contracts_reminder", ["contract_id"]
    )


def downgrade() -> None:
    op.drop_table("crm_contracts_reminder")
    op.drop_table("crm_contracts_condition")
    op.drop_table("crm_contracts_contract")
    op.drop_table("crm_contracts_sequence")
    op.drop_table("crm_contracts_settings")
    op.drop_table("crm_contracts_type")
