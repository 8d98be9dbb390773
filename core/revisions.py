"""Writing a new Alembic revision on one module's branch (``crm db revision MODULE -m ...``)."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory

from core import migrate
from core.modules import ModuleError, installed_modules


def write_revision(crm, module: str, message: str, autogenerate: bool) -> Path:
    plugins = crm.plugins
    if module == migrate.CORE_BRANCH:
        versions = migrate.CORE_MIGRATIONS / "versions"
    elif module in plugins and not plugins[module].broken and plugins[module].package_dir:
        versions = plugins[module].package_dir / "migrations" / "versions"
    else:
        raise ModuleError(f"unknown or broken module {module!r}")
    versions.mkdir(parents=True, exist_ok=True)
    with crm.engine.begin() as connection:
        # Only the branches this database is at: an available but uninstalled module's revisions
        # would make Alembic refuse ("target database is not up to date").
        installed = set(installed_modules(connection)) | {module}
        cfg = migrate.alembic_config([p for n, p in plugins.items() if n in installed], connection)
        # A brand-new module gets its versions folder into the configuration now.
        locations = cfg.get_main_option("version_locations") or ""
        if str(versions) not in locations.split(os.pathsep):
            cfg.set_main_option("version_locations", f"{locations}{os.pathsep}{versions}")
        cfg.attributes["module_prefix"] = module
        # crm_x must not claim crm_x_y's tables.
        cfg.attributes["other_prefixes"] = [
            n for n in plugins if n != module and n.startswith(module + "_")
        ]
        first = not migrate.has_branch(cfg, module)
        script = ScriptDirectory.from_config(cfg)
        count = 0 if first else len(list(script.iterate_revisions(f"{module}@head", "base")))
        rev_id = f"{module}_{count + 1:04d}"
        revision = command.revision(
            cfg,
            message=message,
            autogenerate=autogenerate,
            head="base" if first else f"{module}@head",
            branch_label=module if first else None,
            version_path=str(versions),
            rev_id=rev_id,
        )
    path = (
        Path(revision.path) if revision is not None and not isinstance(revision, list) else versions
    )
    return path
