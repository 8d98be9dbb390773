"""crm_advertising's card of the home page: materials below their reorder level, for those who
configure the module (they reorder). One query."""

from __future__ import annotations

from typing import Any

from flask import render_template
from markupsafe import Markup

from core import HomeWidget, hookimpl
from core.auth import has_permission
from crm_advertising.permissions import CONFIGURE
from crm_advertising.views.stock import low_materials

SHOWN = 8


@hookimpl
def crm_home_widgets(user: Any) -> list[HomeWidget]:
    if not has_permission(CONFIGURE, user):
        return []
    low = low_materials()
    if not low:
        return []
    html = Markup(  # noqa: S704 - a template rendered by Jinja with autoescaping
        render_template("crm_advertising/home_low.html", low=low[:SHOWN], total=len(low))
    )
    return [
        HomeWidget(
            id="crm_advertising.low", title="Advertising material to reorder", html=html, order=60
        )
    ]
