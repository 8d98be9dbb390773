"""crm_contacts: an index that serves the client search's "contains" (issue 18)

SQLite: an FTS5 table with the trigram tokenizer over ``crm_contacts_client.search_text`` (external
content: it stores the index, not the text), kept in step by triggers on the client table, so
every write of ``search_text`` (the ORM's ``before_flush`` listener, the CSV import's Core
``INSERT``, updates, deletes) updates it in the same transaction. PostgreSQL: a GIN index with
``pg_trgm``'s trigram operator class, which ``LIKE '%…%'`` uses by itself.

Where the database cannot (SQLite without FTS5 or older than 3.34, PostgreSQL where
``CREATE EXTENSION pg_trgm`` is refused), nothing is created and the search keeps its ``LIKE``
over ``search_text``: correct, a scan of the table.

A later migration that rebuilds ``crm_contacts_client`` on SQLite (``batch_alter_table`` copies
the table) drops these triggers with it: it must call ``drop_search_index`` and
``create_search_index`` afterwards (which also refills the index).

Revision ID: crm_contacts_0004
Revises: crm_contacts_0003
Create Date: 2026-12-05
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "crm_contacts_0004"
down_revision: str | None = "crm_contacts_0003"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

FTS = "crm_contacts_client_fts"
TRIGRAM_INDEX = "ix_crm_contacts_client_search_trgm"
TRIGGERS = ("crm_contacts_client_fts_insert", "crm_contacts_client_fts_delete",
            "crm_contacts_client_fts_update")  # fmt: skip

# A bulk insert (the CSV import) fills the index once for all its rows, which costs a quarter of
# filling it row by row: while its connection has the temporary table ``BULK_MARKER``, the trigger
# leaves the rows it inserts to it (crm_contacts.search.bulk_search_index). A trigger cannot name
# a temporary table; ``pragma_table_info`` finds one by name. Since crm_contacts_0005.
BULK_MARKER = "crm_contacts_bulk_insert"
INSERT_TRIGGER_WHEN = f"WHEN NOT EXISTS (SELECT 1 FROM pragma_table_info('{BULK_MARKER}')) "
INSERT_TRIGGER = (
    "CREATE TRIGGER crm_contacts_client_fts_insert AFTER INSERT ON crm_contacts_client "
    + INSERT_TRIGGER_WHEN
    + f"BEGIN INSERT INTO {FTS}(rowid, search_text) VALUES (new.id, new.search_text); END"
)

log = logging.getLogger(__name__)


def _sqlite_has_trigram(connection: sa.Connection) -> bool:
    try:
        connection.exec_driver_sql(
            "CREATE VIRTUAL TABLE temp.crm_contacts_trigram_probe USING fts5(x, tokenize='trigram')"
        )
    except sa.exc.OperationalError:
        return False
    connection.exec_driver_sql("DROP TABLE temp.crm_contacts_trigram_probe")
    return True


def create_search_index(connection: sa.Connection) -> bool:
    """The index and what keeps it in step, filled from the existing clients; False where the
    database cannot have it (the search then scans, as before)."""
    if connection.dialect.name == "sqlite":
        if not _sqlite_has_trigram(connection):
            log.warning("SQLite without FTS5's trigram tokenizer: the client search scans")
            return False
        run = connection.exec_driver_sql
        run(
            f"CREATE VIRTUAL TABLE {FTS} USING fts5(search_text, "
            "content='crm_contacts_client', content_rowid='id', tokenize='trigram')"
        )
        # External content: the index is told the old text to remove and the new one to add.
        run(INSERT_TRIGGER)
        run(
            f"CREATE TRIGGER crm_contacts_client_fts_delete AFTER DELETE ON crm_contacts_client "
            f"BEGIN INSERT INTO {FTS}({FTS}, rowid, search_text) "
            "VALUES ('delete', old.id, old.search_text); END"
        )
        run(
            "CREATE TRIGGER crm_contacts_client_fts_update "
            "AFTER UPDATE OF search_text ON crm_contacts_client "
            f"BEGIN INSERT INTO {FTS}({FTS}, rowid, search_text) "
            "VALUES ('delete', old.id, old.search_text); "
            f"INSERT INTO {FTS}(rowid, search_text) VALUES (new.id, new.search_text); END"
        )
        run(f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')")
        return True
    if connection.dialect.name == "postgresql":
        # In a savepoint: a refused CREATE EXTENSION must not abort the install's transaction.
        try:
            with connection.begin_nested():
                connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except sa.exc.DBAPIError as error:
            log.warning("pg_trgm not available (%s): the client search scans", error.orig)
            return False
        connection.exec_driver_sql(
            f"CREATE INDEX {TRIGRAM_INDEX} ON crm_contacts_client "
            "USING gin (search_text gin_trgm_ops)"
        )
        return True
    return False


def drop_search_index(connection: sa.Connection) -> None:
    if connection.dialect.name == "sqlite":
        for trigger in TRIGGERS:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {FTS}")
    elif connection.dialect.name == "postgresql":
        # The extension stays: other schemas may use it, and it holds no data of ours.
        connection.exec_driver_sql(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}")


def upgrade() -> None:
    create_search_index(op.get_bind())


def downgrade() -> None:
    drop_search_index(op.get_bind())
