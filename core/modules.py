"""Module state per database: install, uninstall, and what an uninstall would remove.

Each operation runs in one transaction on one connection: the migrations, the module's lifecycle
hook, its permissions, its row in ``core_module`` and the registry signal commit together or not at
all (SQLite included: see ``core.db``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, delete, func, inspect, select, table, update
from sqlalchemy.orm import Session

from core import migrate
from core.concurrency import ModuleLockTimeout, lock_module_state
from core.models import Attachment, Group, Module, PermissionRecord, RegistrySignal
from core.permissions import Permission
from core.plugins import (
    PluginError,
    PluginInfo,
    build_plugin_manager,
    call_one,
    collect,
    dependants,
    dependency_closure,
    topological,
)

INSTALLED = "installed"


class ModuleError(Exception):
    """A module operation was refused; the message says why and what to do."""


@dataclass(frozen=True)
class TableImpact:
    name: str
    rows: int


@dataclass(frozen=True)
class UninstallImpact:
    module: str
    blocked_by: list[str]  # installed modules that depend on it
    tables: list[TableImpact]
    permissions: list[str]
    menus: list[str]

    @property
    def allowed(self) -> bool:
        return not self.blocked_by


def installed_modules(session: Session | Connection) -> list[str]:
    rows = session.execute(select(Module.name).where(Module.state == INSTALLED))
    return sorted(rows.scalars())


def read_signal(session: Session | Connection) -> int:
    return session.execute(
        select(RegistrySignal.sequence).where(RegistrySignal.id == 1)
    ).scalar_one()


def bump_signal(connection: Session | Connection) -> None:
    """Tell every process that the registry changed (modules, or their configuration)."""
    connection.execute(
        update(RegistrySignal)
        .where(RegistrySignal.id == 1)
        .values(sequence=RegistrySignal.sequence + 1)
    )


def _lock_module_state(connection: Connection) -> None:
    """Wait for the requests in flight and hold new ones back until the commit (PostgreSQL), or
    give up with a message after a few seconds: see ``core.concurrency``."""
    try:
        lock_module_state(connection)
    except ModuleLockTimeout as exc:
        raise ModuleError(str(exc)) from exc


def _core_plugin():
    from core import core_hooks

    return core_hooks


def sync_permissions(session: Session, module: str, permissions: Iterable[Permission]) -> None:
    """Store the module's permissions and grant them to the default groups they name; the
    Administrator group receives every permission."""
    groups = {g.code: g for g in session.scalars(select(Group))}
    existing = {p.code: p for p in session.scalars(select(PermissionRecord))}
    for perm in permissions:
        record = existing.get(perm.code)
        if record is None:
            record = PermissionRecord(code=perm.code, label=perm.label, module=module)
            session.add(record)
            existing[perm.code] = record
            for code in {"admin", *perm.groups}:
                if code in groups and groups[code] not in record.groups:
                    record.groups.append(groups[code])
        else:
            record.label = perm.label
    session.flush()


def install(engine: Engine, plugins: dict[str, PluginInfo], names: Iterable[str]) -> list[str]:
    """Install ``names`` and their missing dependencies, dependencies first. Returns what was
    installed. All or nothing."""
    try:
        plan_all = dependency_closure(names, plugins)
    except PluginError as exc:
        raise ModuleError(str(exc)) from exc
    with engine.begin() as connection:
        _lock_module_state(connection)
        already = set(installed_modules(connection))
        plan = [name for name in plan_all if name not in already]
        if not plan:
            return []
        session = Session(bind=connection)
        installed_infos = [plugins[n] for n in topological(already, plugins) if n in plugins]
        for name in plan:
            info = plugins[name]
            migrate.upgrade(connection, plugins.values(), name)
            installed_infos.append(info)
            pm, errors = build_plugin_manager(_core_plugin(), installed_infos)
            if name in errors:
                raise ModuleError(f"module {name!r} cannot be registered: {errors[name]}")
            call_one(pm, "crm_install", name, session=session)
            perms = [p for owner, p in collect(pm, "crm_permissions") if owner == name]
            sync_permissions(session, name, perms)
            module = session.get(Module, name) or Module(name=name)
            module.version, module.state = info.version, INSTALLED
            module.installed_at = datetime.now(UTC)
            session.add(module)
            session.flush()
        bump_signal(connection)
        session.close()
    return plan


def owned_tables(connection: Connection, module: str, plugins: dict[str, PluginInfo]) -> list[str]:
    """Tables in the database that belong to ``module`` by their prefix. When one module's name is a
    prefix of another's (``crm_x`` and ``crm_x_y``), a table goes to the longest matching name."""
    names = [*plugins, "core"]
    result = []
    for table_name in inspect(connection).get_table_names():
        owners = [n for n in names if table_name.startswith(n + "_")]
        if owners and max(owners, key=len) == module:
            result.append(table_name)
    return sorted(result)


def uninstall_impact(
    engine: Engine, plugins: dict[str, PluginInfo], name: str, menus: Iterable = ()
) -> UninstallImpact:
    with engine.connect() as connection:
        installed = installed_modules(connection)
        if name not in installed:
            raise ModuleError(f"module {name!r} is not installed")
        tables = [
            TableImpact(
                t, connection.execute(select(func.count()).select_from(table(t))).scalar_one()
            )
            for t in owned_tables(connection, name, plugins)
        ]
        permissions = sorted(
            connection.execute(
                select(PermissionRecord.code).where(PermissionRecord.module == name)
            ).scalars()
        )
    return UninstallImpact(
        module=name,
        blocked_by=dependants(name, installed, plugins),
        tables=tables,
        permissions=permissions,
        menus=[m.label for m in menus if m.module == name],
    )


def uninstall(engine: Engine, plugins: dict[str, PluginInfo], name: str) -> UninstallImpact:
    """Uninstall one module: refused while an installed module depends on it. Drops its tables
    (its Alembic branch goes down to base), permissions and module state; other modules' data is
    untouched."""
    impact = uninstall_impact(engine, plugins, name)
    if not impact.allowed:
        raise ModuleError(
            f"cannot uninstall {name}: installed modules depend on it: "
            f"{', '.join(impact.blocked_by)}. Uninstall those first."
        )
    info = plugins.get(name)
    if info is None or info.broken:
        raise ModuleError(
            f"module {name!r} is not available ({info.error if info else 'not discovered'}): "
            "its migrations cannot run, so its tables cannot be dropped safely"
        )
    with engine.begin() as connection:
        _lock_module_state(connection)
        session = Session(bind=connection)
        installed = [plugins[n] for n in installed_modules(connection) if n in plugins]
        pm, _errors = build_plugin_manager(_core_plugin(), installed)
        call_one(pm, "crm_uninstall", name, session=session)
        session.flush()
        session.close()
        # Its records go with its tables, and so do their attachment rows (the files follow at
        # the next `crm attachments gc`): a later reinstall must not find them on new records.
        tables = [t.name for t in impact.tables]
        if tables:
            connection.execute(delete(Attachment).where(Attachment.model.in_(tables)))
        migrate.downgrade(connection, plugins.values(), name)
        connection.execute(delete(PermissionRecord).where(PermissionRecord.module == name))
        connection.execute(update(Module).where(Module.name == name).values(state="uninstalled"))
        bump_signal(connection)
    return impact


def init_core(engine: Engine, plugins: dict[str, PluginInfo]) -> None:
    """Bring the core's own branch to head and store the core's permissions."""
    with engine.begin() as connection:
        _lock_module_state(connection)
        migrate.upgrade(connection, plugins.values(), migrate.CORE_BRANCH)
        session = Session(bind=connection)
        pm, _ = build_plugin_manager(_core_plugin(), [])
        sync_permissions(session, "core", [p for o, p in collect(pm, "crm_permissions")])
        session.close()
        bump_signal(connection)


def upgrade_all(engine: Engine, plugins: dict[str, PluginInfo]) -> list[str]:
    """``crm db upgrade``: the core's branch, then every installed module's, in dependency order."""
    with engine.begin() as connection:
        _lock_module_state(connection)
        migrate.upgrade(connection, plugins.values(), migrate.CORE_BRANCH)
        names = [
            n
            for n in topological(installed_modules(connection), plugins)
            if n in plugins and not plugins[n].broken
        ]
        session = Session(bind=connection)
        pm, _errors = build_plugin_manager(_core_plugin(), [plugins[n] for n in names])
        # A new version may declare new permissions: store them, as an install would.
        for owner in ("core", *names):
            if owner != "core":
                migrate.upgrade(connection, plugins.values(), owner)
                version = plugins[owner].version
                session.execute(update(Module).where(Module.name == owner).values(version=version))
            sync_permissions(
                session, owner, [p for o, p in collect(pm, "crm_permissions") if o == owner]
            )
        session.close()
        bump_signal(connection)
    return names
