"""Alembic environment of the CRM: runs on the connection the core hands over.

The caller owns the transaction, so that a module install (its migrations, its ``crm_install`` and
its module row) commits or rolls back as one.
"""

from alembic import context

from core.db import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `crm db upgrade` or `crm module install`")

# When autogenerating a revision for one module, compare only that module's tables.
module_prefix = config.attributes.get("module_prefix")
other_prefixes = tuple(p + "_" for p in config.attributes.get("other_prefixes", ()))


def include_object(obj, name, type_, reflected, compare_to):
    # Both sides: the module's models and the database's tables, so other modules' tables are
    # neither "added" nor "removed" by the new revision.
    if type_ == "table" and module_prefix:
        return name.startswith(module_prefix + "_") and not name.startswith(other_prefixes)
    return True


context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    include_object=include_object,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
