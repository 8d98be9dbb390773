"""The home page's widgets: what modules show a user when they log in (``crm_home_widgets``).

``HomeWidget`` is what a module returns; ``home_widgets`` collects them for the home page: it
records the giving module, sorts by ``(order, title)``, and leaves out (logged) the widgets of a
module whose implementation fails or returns something else, so that one module's bug does not
close the home page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pluggy
from markupsafe import Markup

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
    from core.plugins import collect_parts

    return collect_parts(pm, HOOK, HomeWidget, user=user)
