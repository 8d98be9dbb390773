"""The live state of one process: which modules are installed, their plugin manager, models,
menus, permissions, pricing rule kinds and reports.

Built from the database and rebuilt whenever the registry signal moved (another process installed or
uninstalled a module), checked once per request; an immutable snapshot is swapped in whole, so a
request in flight keeps a consistent view.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from dataclasses import dataclass, field

import pluggy
from sqlalchemy.orm import Session

from core import core_hooks
from core.jobs.api import JobDef, PeriodicJob
from core.menus import MenuItem, MenuNode, build_tree
from core.modules import installed_modules, read_signal
from core.permissions import Permission
from core.plugins import PluginInfo, build_plugin_manager, collect, topological
from core.pricing import PricingRuleKind
from core.record_rules import RecordRule, enabled_rules
from core.registry import ModelRegistry
from core.report_fields import Fields
from core.report_spec import parse
from core.reports import ReportDefinition

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RuntimeState:
    sequence: int
    installed: tuple[str, ...]
    pm: pluggy.PluginManager
    models: ModelRegistry
    menus: tuple[MenuItem, ...]
    menu_tree: tuple[MenuNode, ...]
    permissions: tuple[Permission, ...]
    pricing_rule_kinds: tuple[PricingRuleKind, ...]
    reports: tuple[ReportDefinition, ...]
    record_rules: tuple[RecordRule, ...] = ()
    enabled_record_rules: tuple[RecordRule, ...] = ()
    jobs: dict[str, JobDef] = field(default_factory=dict)
    periodic_jobs: tuple[PeriodicJob, ...] = ()
    errors: dict[str, str] = field(default_factory=dict)

    def is_installed(self, module: str) -> bool:
        return module == "core" or module in self.installed


def _tag(item, module: str):
    """Record which module gave an item, when the item has a ``module`` field to hold it."""
    if dataclasses.is_dataclass(item) and hasattr(item, "module") and not item.module:
        return dataclasses.replace(item, module=module)
    return item


def _checked_reports(
    reports: tuple[ReportDefinition, ...], models: ModelRegistry, errors: dict[str, str]
) -> tuple[ReportDefinition, ...]:
    """The definitions whose spec fits the registry; the others are reported with their module
    and skipped, so that one bad definition never stops the reports list (nor anything else)."""
    kept = []
    for report in reports:
        try:
            parse(report.as_spec(), Fields(models, None))
        except Exception as exc:  # noqa: BLE001 - a partner's definition may be anything
            message = f"report {report.id!r} skipped: {exc}"
            previous = errors.get(report.module)
            errors[report.module] = f"{previous}; {message}" if previous else message
            continue
        kept.append(report)
    return tuple(kept)


class Runtime:
    def __init__(self, plugins: dict[str, PluginInfo]) -> None:
        self.plugins = plugins
        self._state: RuntimeState | None = None
        self._lock = threading.Lock()
        #: blueprint name -> module, for every blueprint registered on the app
        self.blueprint_owner: dict[str, str] = {}

    @property
    def loaded(self) -> bool:
        return self._state is not None

    def current(self, session: Session) -> RuntimeState:
        """The state for the database's current signal, rebuilt if another process moved it."""
        sequence = read_signal(session)
        state = self._state
        if state is not None and state.sequence == sequence:
            return state
        with self._lock:
            if self._state is None or self._state.sequence != sequence:
                self._state = self._build(session, sequence)
            return self._state

    def _build(self, session: Session, sequence: int) -> RuntimeState:
        in_database = installed_modules(session)
        names = [n for n in in_database if n in self.plugins]
        missing = set(in_database) - set(names)
        errors: dict[str, str] = {
            n: "installed in this database, but its distribution is not available" for n in missing
        }
        healthy = [n for n in names if not self.plugins[n].broken]
        errors.update({n: self.plugins[n].error or "" for n in names if self.plugins[n].broken})
        ordered = topological(healthy, self.plugins)
        pm, reg_errors = build_plugin_manager(core_hooks, [self.plugins[n] for n in ordered])
        errors.update(reg_errors)
        installed = tuple(n for n in ordered if n not in reg_errors)

        models = ModelRegistry()
        for owner, entry in collect(pm, "crm_models", errors):
            try:
                models.add(owner, entry)
            except ValueError as exc:
                errors[owner] = str(exc)
        menus = tuple(_tag(m, o) for o, m in collect(pm, "crm_menus", errors))
        permissions = tuple(_tag(p, o) for o, p in collect(pm, "crm_permissions", errors))
        kinds = tuple(
            sorted(
                (_tag(k, o) for o, k in collect(pm, "crm_pricing_rules", errors)),
                key=lambda k: (k.order, k.name),
            )
        )
        reports = tuple(
            sorted(
                (_tag(r, o) for o, r in collect(pm, "crm_reports", errors)),
                key=lambda r: (r.order, r.title),
            )
        )
        reports = _checked_reports(reports, models, errors)
        record_rules = tuple(_tag(r, o) for o, r in collect(pm, "crm_record_rules", errors))
        jobs = {j.name: j for j in (_tag(j, o) for o, j in collect(pm, "crm_jobs", errors))}
        periodic = tuple(
            p
            for p in (_tag(p, o) for o, p in collect(pm, "crm_periodic_jobs", errors))
            if p.job in jobs
        )
        for module, error in errors.items():
            log.error("module %s: %s", module, error)
        return RuntimeState(
            sequence=sequence,
            installed=installed,
            pm=pm,
            models=models,
            menus=menus,
            menu_tree=tuple(build_tree(menus)),
            permissions=permissions,
            pricing_rule_kinds=kinds,
            reports=reports,
            record_rules=record_rules,
            enabled_record_rules=enabled_rules(session, record_rules),
            jobs=jobs,
            periodic_jobs=periodic,
            errors=errors,
        )
