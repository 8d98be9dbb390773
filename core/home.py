"""The home page's widgets: what modules show a user when they log in (``crm_home_widgets``).

``HomeWidget`` is what a module returns; ``home_widgets`` collects them for the home page: it
records the giving module, sorts by ``(order, title)``, and leaves out (logged) the widgets of a
module whose implementation fails or returns something else, so that one module's bug does not
close the home page.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

import pluggy
from markupsafe import Markup

log = logging.getLogger(__name__)

HOOK = "crm_home_widgets"


@dataclass(frozen=True)
class HomeWidget:
    """One card of the home page.

    ``id`` names the card (``data-widget="<id>"``): prefix it with your module name. ``title`` is
    its heading; ``html`` its body, already rendered and safe (``Markup(render_template(...))``):
    the page shows it as is, so escape what users typed (Jinja does). Cards are sorted by
    ``(order, title)``: the core's notifications use 30, the agenda 10, open tasks 20. ``module``
    is filled in by the core with the name of the module that gave the widget.
    """

    id: str
    title: str
    html: Markup
    order: int = 100
    module: str = ""


def home_widgets(pm: pluggy.PluginManager, user: Any) -> tuple[list[HomeWidget], list[str]]:
    """The widgets every installed module gives ``user``, sorted, and the modules whose widgets
    failed (logged and left out)."""
    from core.db import db_session
    from core.plugins import collect

    errors: dict[str, str] = {}
    widgets: list[HomeWidget] = []
    for module, item in collect(pm, HOOK, errors, user=user):
        if not isinstance(item, HomeWidget):
            log.error("module %s gave %r as a home widget: skipped", module, item)
            errors.setdefault(module, f"{HOOK} gave a wrong value")
            continue
        widgets.append(replace(item, module=module))
    if errors:
        # A failed statement leaves a PostgreSQL transaction unusable for the rest of the page.
        db_session.rollback()
    return sorted(widgets, key=lambda w: (w.order, w.title)), sorted(errors)
