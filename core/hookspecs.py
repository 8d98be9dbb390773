"""The plugin contract: every hook a CRM module may implement.

Partners build against these names. Each hook is documented here briefly and in full, with an
example, in ``docs/plugins.md`` (a test keeps the two in step). All hooks are prefixed ``crm_``.

Hooks that *collect* return a list; the core flattens the lists of all installed modules, records
which module gave each item, and sorts by the item's explicit ``order`` where it has one: the order
in which pluggy calls implementations is not part of the contract.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click
    from flask import Blueprint
    from sqlalchemy.orm import Session

    from core.home import HomeWidget
    from core.jobs import JobDef, PeriodicJob
    from core.menus import MenuItem
    from core.permissions import Permission
    from core.pricing import PricingRuleKind
    from core.record_rules import RecordRule
    from core.registry import ModelDef
    from core.reports import ReportDefinition
    from core.search import SearchHit

PROJECT = "crm"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# ---------------------------------------------------------------------------------------------
# Extending the contract
# ---------------------------------------------------------------------------------------------


@hookspec(historic=True)
def crm_addhooks(pluginmanager: pluggy.PluginManager) -> None:
    """Add hook specifications of the extension points this module owns.

    :param pluginmanager: call ``pluginmanager.add_hookspecs(module_or_class)`` on it.

    Historic: a module registered later still receives the call, so its own specs are known before
    other modules' implementations of them are checked.
    """


# ---------------------------------------------------------------------------------------------
# What a module consists of (collected when the set of installed modules is built)
# ---------------------------------------------------------------------------------------------


@hookspec
def crm_models() -> list[type | ModelDef]:
    """The SQLAlchemy models this module owns (classes, or ``ModelDef`` for a label and schema).

    They enter the model registry; their tables must be named ``<module>_<name>`` and be created by
    the module's migrations.
    """


@hookspec
def crm_blueprints() -> list[Blueprint]:
    """The Flask blueprints (pages and JSON API) of this module.

    The first blueprint is named like the module; every view declares its permission.
    """


@hookspec
def crm_menus() -> list[MenuItem]:
    """Main-menu entries: id, label, endpoint, parent, order and the permission that shows them."""


@hookspec
def crm_permissions() -> list[Permission]:
    """The permissions this module defines, and the default groups that receive them on install."""


@hookspec
def crm_record_rules() -> list[RecordRule]:
    """Record rules: which rows of this module's models the members of a group may see or change.

    Rules of the user's groups are combined with OR; no applicable rule means no restriction;
    administrators are never restricted. Administrators switch each rule on or off.
    """


@hookspec
def crm_pricing_rules() -> list[PricingRuleKind]:
    """Pricing rule kinds: name, label, marshmallow schema of parameters, evaluate function.

    ``evaluate(context, params)`` returns an ``Adjustment`` (with a human-readable reason) when the
    rule applies, else a string saying why it does not: quotes explain every rule considered.
    """


@hookspec
def crm_reports() -> list[ReportDefinition]:
    """Report definitions: title, model, columns, filters, grouping, aggregates, chart."""


@hookspec
def crm_jobs() -> list[JobDef]:
    """Background job functions: ``JobDef(name, function, label, permission=None, ...)``.

    ``core.jobs.enqueue(name, user, **arguments)`` starts one; a worker calls
    ``function(ctx, **arguments)`` with a ``JobContext`` (session, user, progress, result), under
    the permissions and record rules of the user who started it. Names start with the module's.
    """


@hookspec
def crm_periodic_jobs() -> list[PeriodicJob]:
    """Jobs the workers start by themselves: ``PeriodicJob(name, job, schedule)``, ``schedule``
    a test of a local time (``core.jobs.crontab(minute="0", hour="7")``) in ``CRM_TIMEZONE``.

    Each matching minute starts the job once, as the system, whatever the number of workers.
    """


# ---------------------------------------------------------------------------------------------
# Things a module does on request
# ---------------------------------------------------------------------------------------------


@hookspec
def crm_commands() -> list[click.Command]:
    """Click commands (usually one group named after the module's short name) added to ``crm``.

    They are available while the module's distribution is; run in a database where the module is
    not installed, they refuse with a message saying so.
    """


@hookspec
def crm_demo_data(session: Session, scale: int) -> None:
    """Fill this module's tables with realistic demo data; ``scale`` 1 is a small demo.

    Called in dependency order, so the records of the modules this one depends on exist already.
    """


@hookspec
def crm_search(session: Session, query: str, user: Any) -> list[SearchHit]:
    """Hits for the global search box, at most a handful, only of records ``user`` may see."""


@hookspec
def crm_home_widgets(user: Any) -> list[HomeWidget]:
    """Cards of the home page for ``user`` (``HomeWidget(id, title, html, order)``).

    Called while the home page is rendered, during the request, once per page. Return an empty list
    when ``user`` lacks your read permission. Each widget should issue a constant number of
    queries, whatever the amount of data. A failing implementation is logged and its widgets
    skipped; the page still opens.
    """


# ---------------------------------------------------------------------------------------------
# Lifecycle, beyond migrations
# ---------------------------------------------------------------------------------------------


@hookspec
def crm_install(session: Session) -> None:
    """Called once when this module is installed, after its migrations, in the same transaction."""


@hookspec
def crm_uninstall(session: Session) -> None:
    """Called once before this module's tables are dropped, in the same transaction."""


@hookspec
def crm_user_saved(session: Session, user: Any) -> None:
    """``user`` was created, or an administrator changed their name or groups: give them what
    your module keeps per user (a representative's own stock location, a default setting).

    Called in the transaction that saves the user, before it commits; do not commit. Not called
    for a password change or a login.
    """
