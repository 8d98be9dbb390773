"""The migrations of the core and of every bundled module create exactly what the models declare."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from core.db import Base
from tests.helpers import BUNDLED_MODULES

# Objects of a kind only one database has, made by a migration where the database can, not
# declared by a model: crm_contacts' search index (FTS5 tables on SQLite, a pg_trgm GIN index).
DATABASE_OWN = ("crm_contacts_client_fts", "ix_crm_contacts_client_search_trgm")


def test_models_match_migrations(crm_app_factory, crm_plugins):
    modules = [m for m in BUNDLED_MODULES if m in crm_plugins]
    app = crm_app_factory(modules)
    prefixes = tuple(f"{m}_" for m in ["core", *modules])
    with app.extensions["crm"].engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "include_object": lambda obj, name, type_, reflected, compare_to: (
                    (type_ != "table" or name.startswith(prefixes))
                    and not (reflected and name.startswith(DATABASE_OWN))
                ),
            },
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
