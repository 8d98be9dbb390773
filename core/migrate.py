"""Alembic with one branch per module: the core's (label ``core``) and one per plugin.

Every branch's revisions live in its package (``<package>/migrations/versions``); the core builds
the Alembic configuration from the discovered plugins, so no ``alembic.ini`` is needed anywhere.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from core.plugins import PluginInfo

CORE_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
CORE_BRANCH = "core"


def alembic_config(plugins: Iterable[PluginInfo], connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(CORE_MIGRATIONS))
    locations = [str(CORE_MIGRATIONS / "versions")]
    locations += [str(p.versions_dir) for p in plugins if not p.broken and p.versions_dir]
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join(locations))
    cfg.attributes["connection"] = connection
    return cfg


def has_branch(cfg: Config, branch: str) -> bool:
    """A module without tables ships no revisions; its branch simply does not exist."""
    script = ScriptDirectory.from_config(cfg)
    return any(branch in (rev.branch_labels or ()) for rev in script.walk_revisions())


def upgrade(connection: Connection, plugins: Iterable[PluginInfo], branch: str) -> None:
    cfg = alembic_config(plugins, connection)
    if has_branch(cfg, branch):
        command.upgrade(cfg, f"{branch}@head")


def downgrade(connection: Connection, plugins: Iterable[PluginInfo], branch: str) -> None:
    cfg = alembic_config(plugins, connection)
    if has_branch(cfg, branch):
        command.downgrade(cfg, f"{branch}@base")
