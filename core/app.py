"""The application factory, in small ``configure_*`` steps read top to bottom."""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from typing import Any

from dotenv import find_dotenv, load_dotenv
from flask import Flask, abort, current_app, g, jsonify, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from core import admin, api, attachment_views, auth, lookup, notifications, throttle, tokens, views
from core.attachments import install_attachment_cleanup
from core.audit import install_audit
from core.concurrency import CrmFlask, busy_response, install_request_listeners
from core.config import load_settings
from core.db import (
    close_session,
    db_session,
    end_read_transaction,
    make_engine,
    make_session_factory,
)
from core.form_once import init_form_once
from core.inputs import (
    BoundedIntConverter,
    CRMRequest,
    InputRefused,
    refuse_nul_parameters,
    request_limit,
)
from core.jobs import views as job_views
from core.locking import register_error_handlers
from core.menus import visible_tree
from core.permissions import PUBLIC, required_permission
from core.plugins import PluginInfo, build_plugin_manager, collect, discover
from core.record_rules import RuleUser, activate, install_listener
from core.runtime import Runtime, RuntimeState
from core.schemas import install_value_guard

# current_state and wants_json live in core.state; plugins published against ``core.app`` still
# find them here.
from core.state import current_state, wants_json
from core.static_files import init_static_files, is_static_endpoint

log = logging.getLogger(__name__)
csrf = CSRFProtect()


@dataclass
class CRM:
    """What the core keeps on ``app.extensions["crm"]``."""

    engine: Engine
    session_factory: sessionmaker[Session]
    plugins: dict[str, PluginInfo]
    runtime: Runtime


def create_app(
    config: dict[str, Any] | None = None, plugins: dict[str, PluginInfo] | None = None
) -> Flask:
    """Build the application. ``config`` overrides settings from the environment; ``plugins``
    replaces entry-point discovery (tests use it to add a plugin that is not pip-installed)."""
    if not (config or {}).get("TESTING"):
        # The working directory's .env: without usecwd, python-dotenv searches from this file.
        load_dotenv(find_dotenv(usecwd=True))
    settings = load_settings(config)
    app = CrmFlask(__name__, instance_path=settings["INSTANCE_PATH"])
    app.config.update(settings)
    configure_inputs(app)
    configure_database(app, plugins)
    configure_security(app)
    configure_blueprints(app)
    configure_request_gate(app)
    # After the gate: the user is known when a create form's one-time token is claimed.
    init_form_once(app)
    configure_templates(app)
    configure_errors(app)
    return app


def configure_inputs(app: Flask) -> None:
    """The bounds of core/inputs.py for every route of every module: the request class reads
    query strings, forms and JSON within them; ``<int:id>`` matches only ids that fit 64 bits.
    Before any blueprint is registered, so that every rule compiles the bounded converter."""
    app.request_class = CRMRequest
    app.url_map.converters["int"] = BoundedIntConverter


def configure_database(app: Flask, plugins: dict[str, PluginInfo] | None) -> None:
    engine = make_engine(
        app.config["DATABASE_URL"], sqlite_mmap_size=app.config["SQLITE_MMAP_SIZE"]
    )
    plugins = discover() if plugins is None else plugins
    factory = make_session_factory(engine)
    install_value_guard(factory)
    install_listener(factory)
    install_audit(factory)
    install_attachment_cleanup(factory)
    install_request_listeners(factory)
    auth.install_permission_listeners(factory)
    app.extensions["crm"] = CRM(engine, factory, plugins, Runtime(plugins))
    app.teardown_request(end_read_transaction)
    app.teardown_appcontext(close_session)


def configure_security(app: Flask) -> None:
    auth.login_manager.init_app(app)
    csrf.init_app(app)
    # The request gate checks CSRF itself, after authentication: a request authenticated by an API
    # token needs none (see core/tokens.py), one riding on the session cookie does.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.config.setdefault("REMEMBER_COOKIE_SECURE", app.config["SESSION_COOKIE_SECURE"])
    app.session_interface = tokens.TokenAwareSessionInterface()
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        # Behind a load balancer the client's address, scheme and host come from the proxies'
        # X-Forwarded-* headers: throttling per address needs the real one. Only as many hops as
        # are trusted, or anybody could choose their own address by sending the header.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    throttle.init_throttle(app)

    @app.after_request
    def security_headers(response):
        # No inline scripts or styles anywhere: every asset is a file served from this site.
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; object-src 'none'; "
            "frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
        )
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response


def configure_blueprints(app: Flask) -> None:
    """The core's blueprints, then those of every loadable plugin, installed or not.

    Flask cannot remove a route once requests are served, so every discovered plugin's blueprints
    are registered up front and the request gate answers 404 for those of modules that are not
    installed in this database. Installing or uninstalling then needs no restart.
    """
    runtime: Runtime = app.extensions["crm"].runtime
    app.view_functions["static"].crm_permission = PUBLIC  # type: ignore[attr-defined]
    core_blueprints = (
        auth.bp,
        views.bp,
        api.bp,
        admin.bp,
        tokens.bp,
        attachment_views.bp,
        notifications.bp,
        notifications.api,
        lookup.bp,
        job_views.bp,
        job_views.api,
    )
    for blueprint in core_blueprints:
        app.register_blueprint(blueprint)
        runtime.blueprint_owner[blueprint.name] = "core"
    loadable = [p for p in app.extensions["crm"].plugins.values() if not p.broken]
    pm, errors = build_plugin_manager(_core_hooks(), loadable)
    for module, blueprint in collect(pm, "crm_blueprints", errors):
        try:
            app.register_blueprint(blueprint)
        except Exception:
            log.exception("blueprint %s of module %s could not be registered", blueprint, module)
            continue
        runtime.blueprint_owner[blueprint.name] = module
    for module, error in errors.items():
        log.error("module %s is skipped: %s", module, error)


def _core_hooks():
    from core import core_hooks

    return core_hooks


_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def new_request_id() -> str:
    """The id a proxy gave this request, when it looks like one, else a new one."""
    given = request.headers.get("X-Request-Id", "")
    return given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex[:12]


def protect_from_csrf() -> None:
    """Refuse a state-changing request without the session's CSRF token, unless an API token
    authenticated it: a browser never adds that header by itself, so it cannot be forged."""
    config = current_app.config
    if not config["WTF_CSRF_ENABLED"] or request.method not in config["WTF_CSRF_METHODS"]:
        return
    if tokens.authenticated_by_token():
        return
    csrf.protect()


def configure_request_gate(app: Flask) -> None:
    """Before every request: is the route's module installed, and may this user open it?"""

    @app.before_request
    def gate():
        g.request_id = new_request_id()
        view = app.view_functions.get(request.endpoint) if request.endpoint else None
        limit = request_limit(current_app.config, view)
        request.max_content_length = limit  # an import's own, larger limit (large_uploads)
        if limit and (request.content_length or 0) > limit:
            # Refused on the header, before a byte of the body is read or a user is loaded.
            raise RequestEntityTooLarge()
        refuse_nul_parameters(request)
        if request.endpoint is None:
            return None  # Flask answers 404/405 itself
        if is_static_endpoint(request.endpoint):
            return None  # public files of every available module: no query (core/static_files.py)
        try:
            state = current_state()
        except (OperationalError, ProgrammingError) as exc:
            busy = busy_response(exc)
            if busy is not None:
                return busy
            log.exception("database not initialised")
            return render_template("core/not_initialised.html"), 503
        runtime: Runtime = current_app.extensions["crm"].runtime
        top = request.blueprints[-1] if request.blueprints else None
        owner = runtime.blueprint_owner.get(top) if top else None
        if owner is not None and not state.is_installed(owner):
            abort(404)
        needed = required_permission(view, None)
        for name in request.blueprints:
            if needed is not None:
                break
            needed = required_permission(None, app.blueprints.get(name))
        if needed is None:
            log.error("route %s declares no permission: refused", request.endpoint)
            abort(403)
        if needed == PUBLIC:
            protect_from_csrf()
            return None
        if not current_user.is_authenticated:
            if wants_json():
                message = tokens.refusal() or "Authentication required."
                return jsonify(errors={"_schema": [message]}), 401
            return auth.login_manager.unauthorized()
        protect_from_csrf()
        if not auth.has_permission(needed):
            abort(403)
        activate(
            state.enabled_record_rules,
            RuleUser(current_user.id, auth.user_groups(current_user)),
            state.models,
        )
        return None


def configure_templates(app: Flask) -> None:
    # The current value's label of a picker (core/_forms.html), through the request's session.
    app.jinja_env.globals["picker_labels"] = lookup.labels
    init_static_files(app)

    @app.context_processor
    def crm_context():
        # Flask runs context processors at every render_template, and a client file renders a
        # dozen templates (one per section): the menu and the apps list are built once per
        # request and user. ``core.auth.forget_permissions`` drops them with the permissions
        # when a flush changes who holds what, so a page rendered after such a change is right.
        user = current_user._get_current_object()  # type: ignore[attr-defined]
        key = (id(g.get("crm_state")), user.get_id() if user.is_authenticated else None)
        cached = g.get("crm_template_context")
        if cached is None or cached[0] != key:
            cached = g.crm_template_context = (key, _template_context(user))
        return cached[1]


def _template_context(user) -> dict[str, Any]:
    """What every template may use: the menu and the apps this user may open."""
    base = {"has_permission": auth.has_permission}
    state = g.get("crm_state")
    if state is None:
        return {**base, "crm_menu": [], "crm_apps": []}
    plugins = current_app.extensions["crm"].plugins
    return {
        **base,
        "crm_menu": visible_tree(list(state.menu_tree), auth.has_permission)
        if user.is_authenticated
        else [],
        "crm_apps": [
            plugins[n] for n in state.installed if plugins[n].application and _may_use(state, n)
        ],
        "crm_unread_notifications": _unread_notifications,
    }


def _unread_notifications() -> int:
    """The number on the bell: read with the user who logged in by session
    (``core.auth.load_user``), else one query, only on pages that show the bell."""
    if not current_user.is_authenticated:
        return 0
    if "crm_unread_notifications" not in g:
        g.crm_unread_notifications = notifications.unread_count(db_session, current_user.id)
    return g.crm_unread_notifications


def _may_use(state: RuntimeState, module: str) -> bool:
    """An application is shown to users who hold one of its permissions (or it declares none)."""
    codes = [p.code for p in state.permissions if p.module == module]
    return not codes or any(auth.has_permission(code) for code in codes)


def configure_errors(app: Flask) -> None:
    register_error_handlers(app)

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        if wants_json():
            return jsonify(errors={"_schema": [error.description]}), 400
        return render_template("core/error.html", code=400, message=error.description), 400

    @app.errorhandler(InputRefused)
    def input_refused(error: InputRefused):
        db_session.rollback()
        if wants_json():
            return jsonify(errors=error.errors), 400
        message = "; ".join(f"{field}: {' '.join(texts)}" for field, texts in error.errors.items())
        return render_template("core/error.html", code=400, message=message), 400

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(error: RequestEntityTooLarge):
        # Raised by the gate, or by werkzeug when anything reads a form past the limit.
        limit = request.max_content_length or current_app.config.get("MAX_CONTENT_LENGTH") or 0
        megabytes = limit // (1024 * 1024)
        error.description = f"The request is larger than the {megabytes} MB this site accepts."
        return http_error(error)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if wants_json():
            response = jsonify(errors={"_schema": [error.description]})
        else:
            page = render_template("core/error.html", code=error.code, message=error.description)
            response = app.make_response(page)
        response.status_code = error.code or 500
        # Allow (405), Retry-After (429), WWW-Authenticate (401) belong to the answer too.
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.after_request
    def request_id_header(response):
        # The id a 500 page shows and the log line carries: support finds one from the other.
        if "request_id" in g:
            response.headers.setdefault("X-Request-Id", g.request_id)
        return response

    @app.errorhandler(Exception)
    def server_error(error: Exception):
        if isinstance(error, HTTPException):
            return http_error(error)
        busy = busy_response(error)
        if busy is not None:
            return busy
        # An error before the gate ran still gets an id, for the page, the header and the log.
        request_id = g.setdefault("request_id", new_request_id())
        log.exception("unhandled error, request id %s", request_id)
        db_session.rollback()
        message = f"Something went wrong on our side. Request id: {request_id}."
        if wants_json():
            return jsonify(errors={"_schema": [message]}), 500
        return render_template("core/error.html", code=500, message=message), 500
