"""crm_contacts: the search index of clients inserted in bulk is filled once, not row by row

The CSV import inserts thousands of clients at a time; the FTS5 trigram index filled by the insert
trigger row by row cost 28 s for 100,000 clients, filled by one ``INSERT … SELECT`` afterwards
6.5 s. The trigger now leaves the rows to the import while the import's connection holds the
temporary table ``crm_contacts_bulk_insert`` (see ``crm_contacts_0004.INSERT_TRIGGER``).
PostgreSQL's GIN index needs nothing.

Revision ID: crm_contacts_0005
Revises: crm_contacts_0004
Create Date: 2026-12-05
"""

import importlib
from collections.abc import Sequence

from alembic import op

revision: str = "crm_contacts_0005"
down_revision: str | None = "crm_contacts_0004"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

# Alembic loads revisions by path, not as a package: the trigger's text is 0004's.
_index = importlib.import_module("crm_contacts.migrations.versions.crm_contacts_0004_search_index")


def _replace_trigger(definition: str) -> None:
    connection = op.get_bind()
    if connection.dialect.name != "sqlite":
        return
    found = connection.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = "
        "'crm_contacts_client_fts_insert'"
    ).first()
    if found:  # where SQLite had the index (FTS5 with trigrams)
        connection.exec_driver_sql("DROP TRIGGER crm_contacts_client_fts_insert")
        connection.exec_driver_sql(definition)


def upgrade() -> None:
    _replace_trigger(_index.INSERT_TRIGGER)


def downgrade() -> None:
    _replace_trigger(_index.INSERT_TRIGGER.replace(_index.INSERT_TRIGGER_WHEN, ""))
