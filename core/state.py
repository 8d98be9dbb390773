"""The runtime state of the current request: which modules are installed in this database, their
menus, models, record rules and plugin manager (``core.runtime.RuntimeState``).

Kept apart from ``core.app``, the application factory, so that the factory stays a leaf: the core's
modules and the plugins import this, and nothing but the entry points (``core.wsgi``, the CLI,
tests) imports the factory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app, g, request

from core.db import db_session

if TYPE_CHECKING:
    from core.runtime import RuntimeState


def current_state() -> RuntimeState:
    """The runtime state of this request (installed modules, menus, models...), read once."""
    if "crm_state" not in g:
        g.crm_state = current_app.extensions["crm"].runtime.current(db_session)
    return g.crm_state


def wants_json() -> bool:
    """Whether the request is one of the JSON API's, answered in JSON (errors included)."""
    return request.path.startswith("/api/")
