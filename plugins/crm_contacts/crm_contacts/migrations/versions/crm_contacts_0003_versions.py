"""crm_contacts: a version on every record that is edited in place (optimistic locking)

Revision ID: crm_contacts_0003
Revises: crm_contacts_0002
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "crm_contacts_0003"
down_revision: str | None = "crm_contacts_0002"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

TABLES = (
    "crm_contacts_customer_group",
    "crm_contacts_contact_type",
    "crm_contacts_person",
)


def upgrade() -> None:
    for name in TABLES:
        with op.batch_alter_table(name) as batch:
            batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    # Not in batch mode: on SQLite a batch would copy the table, and dropping the original
    # fails while other tables' foreign keys point at it. SQLite >= 3.35 drops columns itself.
    for name in reversed(TABLES):
        op.drop_column(name, "version")
