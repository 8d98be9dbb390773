"""Plugin discovery, manifests, dependency order, and the plugin manager of an installed set.

Entry points are loaded one by one and each load is guarded: a plugin that fails to import, has no
valid manifest, implements a hook that does not exist, or depends on something missing or broken is
recorded as broken with the reason and skipped. ``CRM_STRICT_PLUGINS=1`` re-raises instead, for
development and CI.
"""

from __future__ import annotations

import logging
import os
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy

from core import hookspecs
from core.manifest import Manifest

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "crm.plugins"


class PluginError(Exception):
    """A plugin could not be loaded or its dependencies cannot be satisfied."""


@dataclass
class PluginInfo:
    """A discovered plugin: its manifest and module when it loaded, else why it is broken."""

    name: str
    manifest: Manifest | None = None
    module: ModuleType | None = None
    version: str = ""
    distribution: str = ""
    error: str | None = None

    @property
    def broken(self) -> bool:
        return self.error is not None

    @property
    def depends(self) -> tuple[str, ...]:
        return self.manifest.depends if self.manifest else ()

    @property
    def after(self) -> tuple[str, ...]:
        return self.manifest.after if self.manifest else ()

    @property
    def summary(self) -> str:
        return self.manifest.summary if self.manifest else ""

    @property
    def label(self) -> str:
        return self.manifest.label if self.manifest else self.name

    @property
    def application(self) -> bool:
        return bool(self.manifest and self.manifest.application)

    @property
    def package_dir(self) -> Path | None:
        if self.module is None or not getattr(self.module, "__file__", None):
            return None
        return Path(self.module.__file__).resolve().parent

    @property
    def versions_dir(self) -> Path | None:
        """Where the module's Alembic revisions live: ``<package>/migrations/versions``."""
        base = self.package_dir
        path = base / "migrations" / "versions" if base else None
        return path if path and path.is_dir() else None


def strict_mode() -> bool:
    return os.environ.get("CRM_STRICT_PLUGINS", "") not in ("", "0", "false", "no")


def _describe(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


def discover(
    entry_points: Iterable[metadata.EntryPoint] | None = None, strict: bool | None = None
) -> dict[str, PluginInfo]:
    """Load every ``crm.plugins`` entry point; return all plugins, broken ones included, in
    dependency order (broken ones last)."""
    strict = strict_mode() if strict is None else strict
    if entry_points is None:
        entry_points = metadata.entry_points(group=ENTRY_POINT_GROUP)
    plugins: dict[str, PluginInfo] = {}
    for ep in sorted(entry_points, key=lambda e: e.name):
        if ep.name in plugins:
            # Two distributions claiming one name: keep the first, say so rather than guess.
            plugins[ep.name].error = f"two distributions provide the module {ep.name!r}"
            continue
        plugins[ep.name] = _load(ep, strict)
    _check_hooks(plugins, strict)
    _check_dependencies(plugins, strict)
    return order_plugins(plugins)


def _load(ep: metadata.EntryPoint, strict: bool) -> PluginInfo:
    dist = getattr(ep, "dist", None)
    info = PluginInfo(
        name=ep.name,
        version=dist.version if dist else "",
        distribution=dist.metadata["Name"] if dist else "",
    )
    try:
        module = ep.load()
        manifest = getattr(module, "MANIFEST", None)
        if not isinstance(manifest, Manifest):
            raise PluginError(f"{ep.value} has no MANIFEST = core.Manifest(...)")
        if manifest.name != ep.name:
            raise PluginError(
                f"entry point {ep.name!r} loads a manifest named {manifest.name!r}: they must match"
            )
        info.module, info.manifest = module, manifest
        info.version = manifest.version or info.version
    except Exception as exc:
        if strict:
            raise
        log.exception("plugin %s failed to load and is skipped", ep.name)
        info.error = f"failed to load: {_describe(exc)}"
    return info


def new_plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    if os.environ.get("CRM_TRACE_HOOKS"):
        pm.trace.root.setwriter(lambda message: log.debug("%s", message.rstrip()))
        pm.enable_tracing()
    return pm


def _check_hooks(plugins: dict[str, PluginInfo], strict: bool) -> None:
    """Register all loaded plugins together once: a hook implementation with a wrong signature or a
    misspelled name (``pm.check_pending()``) marks its plugin broken, named."""
    pm = new_plugin_manager()
    pm.hook.crm_addhooks.call_historic(kwargs={"pluginmanager": pm})
    for info in plugins.values():
        if info.broken:
            continue
        try:
            pm.register(info.module, name=info.name)
        except Exception as exc:
            if strict:
                raise
            info.error = f"invalid hook implementation: {_describe(exc)}"
    while True:
        try:
            pm.check_pending()
            return
        except pluggy.PluginValidationError as exc:
            if strict:
                raise
            name = pm.get_name(exc.plugin) or "?"
            plugins[name].error = (
                f"{exc} (a misspelled hook? hooks of modules not in 'depends' need "
                "@hookimpl(optionalhook=True))"
            )
            pm.unregister(exc.plugin)


def _check_dependencies(plugins: dict[str, PluginInfo], strict: bool) -> None:
    """Mark plugins whose dependencies are missing, broken, or form a cycle; repeat until stable,
    because a dependant of a newly broken plugin is broken too."""
    changed = True
    while changed:
        changed = False
        for info in plugins.values():
            if info.broken:
                continue
            for dep in info.depends:
                reason = None
                if dep not in plugins:
                    reason = f"depends on {dep!r}, which is not available (is it pip-installed?)"
                elif plugins[dep].broken:
                    reason = f"depends on {dep!r}, which is broken ({plugins[dep].error})"
                if reason:
                    if strict:
                        raise PluginError(f"{info.name}: {reason}")
                    info.error, changed = reason, True
                    break
    for cycle in find_cycles(plugins):
        reason = "dependency cycle: " + " -> ".join([*cycle, cycle[0]])
        if strict:
            raise PluginError(reason)
        for name in cycle:
            plugins[name].error = reason
    # Dependants of plugins broken by a cycle.
    if any(p.broken for p in plugins.values()):
        for info in plugins.values():
            if not info.broken and any(plugins[d].broken for d in info.depends):
                _check_dependencies(plugins, strict)
                return


def find_cycles(plugins: dict[str, PluginInfo]) -> list[list[str]]:
    """Cycles among the healthy plugins (Tarjan's strongly connected components)."""
    graph = {
        n: [d for d in p.depends if d in plugins and not plugins[d].broken]
        for n, p in plugins.items()
        if not p.broken
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for dep in graph[node]:
            if dep not in index:
                visit(dep)
                low[node] = min(low[node], low[dep])
            elif dep in stack:
                low[node] = min(low[node], index[dep])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph[node]:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def _needs(name: str, among: tuple[str, ...], plugins: dict[str, PluginInfo]) -> bool:
    """Does ``name`` depend, directly or not, on one of ``among``?"""
    seen: set[str] = set()
    stack = [name]
    while stack:
        info = plugins.get(stack.pop())
        for dep in info.depends if info else ():
            if dep in among:
                return True
            if dep not in seen:
                seen.add(dep)
                stack.append(dep)
    return False


def topological(names: Iterable[str], plugins: dict[str, PluginInfo]) -> list[str]:
    """``names`` ordered so that every module comes after the modules it depends on, and after
    those of its manifest's ``after`` that are among ``names``."""
    wanted = set(names)
    ordered: list[str] = []
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in done:
            return
        if name in path:
            raise PluginError("dependency cycle: " + " -> ".join([*path, name]))
        info = plugins.get(name)
        for dep in sorted(info.depends) if info else ():
            if dep in wanted:
                visit(dep, (*path, name))
        # "after" only orders: an edge that would close a loop (through "after" or "depends") is
        # dropped rather than reported, since nothing breaks without it.
        for dep in sorted(info.after) if info else ():
            if dep in wanted and dep not in path and not _needs(dep, (*path, name), plugins):
                visit(dep, (*path, name))
        done.add(name)
        ordered.append(name)

    for name in sorted(wanted):
        visit(name, ())
    return ordered


def order_plugins(plugins: dict[str, PluginInfo]) -> dict[str, PluginInfo]:
    healthy = [n for n, p in plugins.items() if not p.broken]
    order = topological(healthy, plugins) + sorted(n for n, p in plugins.items() if p.broken)
    return {name: plugins[name] for name in order}


def dependency_closure(names: Iterable[str], plugins: dict[str, PluginInfo]) -> list[str]:
    """The modules named and everything they depend on, in install order. Raises PluginError with a
    clear message for an unknown or broken module."""
    needed: set[str] = set()

    def add(name: str, wanted_by: str | None) -> None:
        if name in needed:
            return
        info = plugins.get(name)
        by = f" (needed by {wanted_by})" if wanted_by else ""
        if info is None:
            raise PluginError(f"unknown module {name!r}{by}: is its distribution pip-installed?")
        if info.broken:
            raise PluginError(f"module {name!r} is broken{by}: {info.error}")
        needed.add(name)
        for dep in info.depends:
            add(dep, name)

    for name in names:
        add(name, None)
    return topological(needed, plugins)


def dependants(name: str, among: Iterable[str], plugins: dict[str, PluginInfo]) -> list[str]:
    """Modules in ``among`` that depend on ``name``, directly or through another module."""
    among = list(among)
    result: set[str] = set()
    frontier = {name}
    while frontier:
        found = {m for m in among if m in plugins and set(plugins[m].depends) & frontier}
        frontier = found - result
        result |= found
    return sorted(result)


def build_plugin_manager(
    core_plugin: object, plugins: Sequence[PluginInfo]
) -> tuple[pluggy.PluginManager, dict[str, str]]:
    """A plugin manager with the core's own hooks and ``plugins`` (in dependency order).

    Returns it with the plugins that could not be registered and why; those are left out.
    """
    pm = new_plugin_manager()
    pm.register(core_plugin, name="core")
    pm.hook.crm_addhooks.call_historic(kwargs={"pluginmanager": pm})
    errors: dict[str, str] = {}
    for info in plugins:
        try:
            pm.register(info.module, name=info.name)
        except Exception as exc:
            if strict_mode():
                raise
            errors[info.name] = _describe(exc)
    while True:
        try:
            pm.check_pending()
            break
        except pluggy.PluginValidationError as exc:
            if strict_mode():
                raise
            errors[pm.get_name(exc.plugin) or "?"] = str(exc)
            pm.unregister(exc.plugin)
    return pm, errors


def collect(
    pm: pluggy.PluginManager, hook_name: str, errors: dict[str, str] | None = None, **kwargs: Any
) -> list[tuple[str, Any]]:
    """Call a collecting hook implementation by implementation, in registration (dependency)
    order, and return ``(module, item)`` pairs. One module's failure is recorded in ``errors`` and
    skipped instead of failing the whole call."""
    caller = getattr(pm.hook, hook_name)
    pairs: list[tuple[str, Any]] = []
    for impl in caller.get_hookimpls():
        try:
            result = impl.function(*[kwargs[arg] for arg in impl.argnames])
        except Exception as exc:
            if strict_mode() or errors is None:
                raise
            log.exception("hook %s of module %s failed", hook_name, impl.plugin_name)
            errors[impl.plugin_name] = f"{hook_name} failed: {_describe(exc)}"
            continue
        pairs.extend((impl.plugin_name, item) for item in result or ())
    return pairs


def collect_parts(
    pm: pluggy.PluginManager, hook_name: str, kind: type, **kwargs: Any
) -> tuple[list[Any], list[str]]:
    """Collect the parts modules give a page during a request (client-file sections, home-page
    cards): instances of the frozen dataclass ``kind`` (with ``module``, ``order`` and ``title``
    fields), tagged with the giving module and sorted by ``(order, title)``, and the sorted names
    of the modules whose part failed or was not a ``kind``: logged and left out, so that one
    module's bug does not close the page."""
    from core.db import db_session

    errors: dict[str, str] = {}
    parts: list[Any] = []
    for module, item in collect(pm, hook_name, errors, **kwargs):
        if not isinstance(item, kind):
            log.error("module %s gave %r to %s: skipped", module, item, hook_name)
            errors.setdefault(module, f"{hook_name} gave a wrong value")
            continue
        parts.append(replace(item, module=module))
    if errors:
        # A failed statement leaves a PostgreSQL transaction unusable for the rest of the page.
        db_session.rollback()
    return sorted(parts, key=lambda part: (part.order, part.title)), sorted(errors)


def call_one(pm: pluggy.PluginManager, hook_name: str, module: str, **kwargs: Any) -> Any:
    """Call one module's implementation of a hook, if it has one (lifecycle hooks)."""
    for impl in getattr(pm.hook, hook_name).get_hookimpls():
        if impl.plugin_name == module:
            return impl.function(*[kwargs[arg] for arg in impl.argnames])
    return None
