"""The core's pages: home, Apps (module administration), global search, health check."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select, text

from core.auth import has_permission
from core.db import db_session, get_engine
from core.home import home_widgets
from core.models import Module
from core.modules import ModuleError, bump_signal, install, uninstall, uninstall_impact
from core.permissions import AUTHENTICATED, PUBLIC, permission_required
from core.plugins import collect
from core.record_rules import set_rule_enabled
from core.state import current_state

bp = Blueprint("core", __name__)


def _crm():
    return current_app.extensions["crm"]


def _state():

    return current_state()


@bp.route("/")
@permission_required(AUTHENTICATED)
def home():
    state = _state()
    entry = {}
    for item in state.menus:
        # An application's tile opens its first top-level page.
        if (
            item.endpoint
            and item.module not in entry
            and item.module != "core"
            and has_permission(item.permission)
        ):
            entry[item.module] = item.endpoint
    # The modules' cards (agenda, tasks, notifications...) above the application tiles.
    widgets, failed = home_widgets(state.pm, current_user._get_current_object())
    return render_template(
        "core/home.html", entry=entry, widgets=widgets, failed=failed, setup=_setup_checklist(state)
    )


def _setup_checklist(state) -> list[dict] | None:
    """What an administrator of a new installation has to do, while it is not done: modules,
    users, then bringing in data (the modules' import pages, found by their menu entries)."""
    if not (has_permission("core.modules") and has_permission("core.users")):
        return None
    from core.models import User

    users = db_session.scalar(select(func.count()).select_from(User)) or 0
    if state.installed and users > 1:
        return None
    imports = [
        m for m in state.menus if m.endpoint and "import" in m.id and has_permission(m.permission)
    ]
    return [
        {
            "label": "Install the modules your company needs",
            "done": bool(state.installed),
            "url": url_for("core.apps"),
        },
        {
            "label": "Create the users and put them in groups",
            "done": users > 1,
            "url": url_for("core_admin.user_list"),
        },
        *(
            {"label": f"{m.label}: bring in your data", "done": False, "url": url_for(m.endpoint)}
            for m in imports
        ),
    ]


@bp.route("/favicon.ico")
@permission_required(PUBLIC)
def favicon():
    # Browsers ask for /favicon.ico on pages that do not name an icon (JSON, downloads).
    return redirect(url_for("static", filename="favicon.svg"), code=301)


@bp.route("/health")
@permission_required(PUBLIC)
def health():
    db_session.execute(text("SELECT 1"))
    return {"status": "ok"}


@bp.route("/search")
@permission_required(AUTHENTICATED)
def search():
    query = request.args.get("q", "").strip()
    hits = []
    if query:
        state = _state()
        errors: dict[str, str] = {}
        hits = [
            (module, hit)
            for module, hit in collect(
                state.pm, "crm_search", errors, session=db_session, query=query, user=current_user
            )
        ]
        hits.sort(key=lambda pair: (pair[1].order, pair[1].title))
    return render_template("core/search.html", query=query, hits=hits)


def _module_rows():
    crm = _crm()
    states = {m.name: m for m in db_session.scalars(select(Module))}
    rows = []
    for name, info in crm.plugins.items():
        record = states.get(name)
        installed = record is not None and record.state == "installed"
        rows.append(
            {
                "name": name,
                "info": info,
                "state": "broken" if info.broken else "installed" if installed else "not installed",
                "installed_at": record.installed_at if installed else None,
            }
        )
    for name, record in states.items():
        if name not in crm.plugins and record.state == "installed":
            rows.append({"name": name, "info": None, "state": "missing", "installed_at": None})
    return rows


def _end_request_transaction() -> None:
    """Install and uninstall run DDL on a connection of their own; the request's transaction
    still holds read locks (on core_user, say), and on PostgreSQL a DROP TABLE would wait for
    them forever. Ending it first removes the deadlock."""
    db_session.commit()


@bp.route("/apps")
@permission_required("core.modules")
def apps():
    return render_template("core/apps.html", rows=_module_rows(), errors=_state().errors)


@bp.route("/apps/<name>/install", methods=["POST"])
@permission_required("core.modules")
def apps_install(name: str):
    _end_request_transaction()
    try:
        done = install(get_engine(), _crm().plugins, [name])
    except ModuleError as exc:
        flash(str(exc), "danger")
    else:
        if done:
            flash(f"Installed: {', '.join(done)}.", "success")
        else:
            flash(f"{name} was already installed.", "info")
    return redirect(url_for("core.apps"))


@bp.route("/apps/<name>/uninstall", methods=["GET", "POST"])
@permission_required("core.modules")
def apps_uninstall(name: str):
    crm = _crm()
    try:
        impact = uninstall_impact(get_engine(), crm.plugins, name, _state().menus)
    except ModuleError as exc:
        flash(str(exc), "danger")
        return redirect(url_for("core.apps"))
    if request.method == "POST":
        if request.form.get("confirm") != name:
            flash(f"Type the module name ({name}) to confirm the uninstall.", "danger")
            return render_template(
                "core/uninstall.html", impact=impact, words=_table_words(impact)
            ), 400
        _end_request_transaction()
        try:
            uninstall(get_engine(), crm.plugins, name)
        except ModuleError as exc:
            flash(str(exc), "danger")
        else:
            flash(f"Uninstalled {name}: its tables were dropped.", "success")
        return redirect(url_for("core.apps"))
    return render_template("core/uninstall.html", impact=impact, words=_table_words(impact))


def _table_words(impact) -> dict[str, str]:
    """``{table: "14 pricing rules"}``: what the rows of each table are, in the words of the
    model registry (the model's label and plural), else the table's name without its prefix."""
    models = _state().models
    words = {}
    for t in impact.tables:
        if t.name in models:
            info = models.get(t.name)
            noun = (info.label if t.rows == 1 else info.plural).lower()
        else:
            noun = t.name.removeprefix(impact.module + "_").replace("_", " ") + " records"
        words[t.name] = f"{t.rows:,} {noun}"
    return words


@bp.route("/settings/record-rules")
@permission_required("core.users")
def record_rules():
    state = _state()
    enabled = {r.code for r in state.enabled_record_rules}
    return render_template("core/record_rules.html", rules=state.record_rules, enabled=enabled)


@bp.route("/settings/record-rules/<code>", methods=["POST"])
@permission_required("core.users")
def record_rule_switch(code: str):
    state = _state()
    rule = next((r for r in state.record_rules if r.code == code), None)
    if rule is None:
        abort(404)
    on = request.form.get("enabled") == "1"
    set_rule_enabled(db_session, code, on)
    # Every worker rebuilds its registry, and with it the rules in force, at its next request.
    bump_signal(db_session)
    db_session.commit()
    flash(f"“{rule.label}” is now {'on' if on else 'off'}.", "success")
    return redirect(url_for("core.record_rules"))
