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


def include_name(name, type_, parent_names):
    if type_ == "table" and module_prefix:
        return name.startswith(module_prefix + "_")
    return True


context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    include_name=include_name,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
