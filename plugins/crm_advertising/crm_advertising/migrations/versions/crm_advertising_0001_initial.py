"""crm_advertising: kinds, materials, locations, stock, movements, reorder alerts

Revision ID: crm_advertising_0001
Revises:
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "crm_advertising_0001"
down_revision: str | None = None
branch_labels: Sequence[str] | None = ("crm_advertising",)
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crm_advertising_kind",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("order", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_advertising_kind")),
        sa.UniqueConstraint("code", name=op.f("uq_crm_advertising_kind_code")),
    )
    op.create_table(
        "crm_advertising_material",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind_id", sa.Integer(), nullable=True),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("unit_cost", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("returnable", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("reorder_level", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "unit_cost >= 0", name=op.f("ck_crm_advertising_material_unit_cost_not_negative")
        ),
        sa.CheckConstraint(
            "reorder_level >= 0",
            name=op.f("ck_crm_advertising_material_reorder_level_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["kind_id"],
            ["crm_advertising_kind.id"],
            name=op.f("fk_crm_advertising_material_kind_id_crm_advertising_kind"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_advertising_material")),
        sa.UniqueConstraint("code", name=op.f("uq_crm_advertising_material_code")),
    )
    op.create_index(
        op.f("ix_crm_advertising_material_kind_id"), "crm_advertising_material", ["kind_id"]
    )
    op.create_index(op.f("ix_crm_advertising_material_name"), "crm_advertising_material", ["name"])
    op.create_table(
        "crm_advertising_location",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["core_user.id"],
            name=op.f("fk_crm_advertising_location_user_id_core_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_advertising_location")),
        sa.UniqueConstraint("user_id", name=op.f("uq_crm_advertising_location_user_id")),
    )
    op.create_table(
        "crm_advertising_stock",
        sa.Column("material_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "quantity >= 0", name=op.f("ck_crm_advertising_stock_quantity_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["crm_advertising_location.id"],
            name=op.f("fk_crm_advertising_stock_location_id_crm_advertising_location"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["material_id"],
            ["crm_advertising_material.id"],
            name=op.f("fk_crm_advertising_stock_material_id_crm_advertising_material"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "material_id", "location_id", name=op.f("pk_crm_advertising_stock")
        ),
    )
    op.create_index(
        op.f("ix_crm_advertising_stock_location_id"), "crm_advertising_stock", ["location_id"]
    )
    op.create_table(
        "crm_advertising_movement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("material_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_cost", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("from_location_id", sa.Integer(), nullable=True),
        sa.Column("to_location_id", sa.Integer(), nullable=True),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("client_delta", sa.Integer(), nullable=False),
        sa.Column("client_cost", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("occasion", sa.String(length=20), nullable=True),
        sa.Column("campaign", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("reverses_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "quantity > 0", name=op.f("ck_crm_advertising_movement_quantity_positive")
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["crm_contacts_client.id"],
            name=op.f("fk_crm_advertising_movement_client_id_crm_contacts_client"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["core_user.id"],
            name=op.f("fk_crm_advertising_movement_created_by_id_core_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["from_location_id"],
            ["crm_advertising_location.id"],
            name=op.f("fk_crm_advertising_movement_from_location_id_crm_advertising_location"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["material_id"],
            ["crm_advertising_material.id"],
            name=op.f("fk_crm_advertising_movement_material_id_crm_advertising_material"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["crm_contacts_person.id"],
            name=op.f("fk_crm_advertising_movement_person_id_crm_contacts_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"],
            ["crm_advertising_movement.id"],
            name=op.f("fk_crm_advertising_movement_reverses_id_crm_advertising_movement"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["to_location_id"],
            ["crm_advertising_location.id"],
            name=op.f("fk_crm_advertising_movement_to_location_id_crm_advertising_location"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_advertising_movement")),
        sa.UniqueConstraint("reverses_id", name=op.f("uq_crm_advertising_movement_reverses_id")),
    )
    for column in ("kind", "day", "material_id", "from_location_id", "to_location_id", "client_id"):
        op.create_index(
            op.f(f"ix_crm_advertising_movement_{column}"), "crm_advertising_movement", [column]
        )
    op.create_table(
        "crm_advertising_reorder_alert",
        sa.Column("material_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["material_id"],
            ["crm_advertising_material.id"],
            name=op.f("fk_crm_advertising_reorder_alert_material_id_crm_advertising_material"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("material_id", name=op.f("pk_crm_advertising_reorder_alert")),
    )


def downgrade() -> None:
    op.drop_table("crm_advertising_reorder_alert")
    op.drop_table("crm_advertising_movement")
    op.drop_table("crm_advertising_stock")
    op.drop_table("crm_advertising_location")
    op.drop_table("crm_advertising_material")
    op.drop_table("crm_advertising_kind")
