"""The migrations of the core and of every bundled module create exactly what the models declare."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from core.db import Base
from tests.helpers import BUNDLED_MODULES


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
                    type_ != "table" or name.startswith(prefixes)
                ),
            },
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
