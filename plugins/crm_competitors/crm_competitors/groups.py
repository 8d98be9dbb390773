"""Product groups: the catalogue's where crm_sales is installed, free text otherwise.

crm_competitors does not depend on crm_sales and never imports it. It stores a product group as
its name. When crm_sales is installed, its group model is in the model registry under its table
name (``crm_sales_product_group``: ``code``, ``name``); the forms then offer its groups, a name
(or code) typed is checked against it and stored as the catalogue spells the name, and an unknown
one is refused. Without it, any name is accepted (tidied: spaces, no duplicates whatever the
case), so the module works for a company without the sales module.
"""

from __future__ import annotations

from flask import has_app_context
from sqlalchemy import func, or_, select

from core.db import db_session
from core.state import current_state

GROUP_TABLE = "crm_sales_product_group"
MAX_GROUPS = 20  # per record
NAME_LENGTH = 200


def catalogue_groups() -> type | None:
    """The catalogue's product group model, or None without crm_sales (or outside the app)."""
    if not has_app_context():
        return None

    models = current_state().models
    return models.get(GROUP_TABLE).model if GROUP_TABLE in models else None


def group_choices() -> list[str] | None:
    """The catalogue's group names for a form to offer, or None when names are free text."""
    model = catalogue_groups()
    if model is None:
        return None
    order = getattr(model, "path", model.name)
    return list(db_session.scalars(select(model.name).order_by(order, model.name)))


def tidy(names: list[str]) -> list[str]:
    """Spaces squeezed, empties dropped, the first spelling of each name kept."""
    seen: dict[str, str] = {}
    for name in names:
        clean = " ".join(str(name).split())
        if clean and clean.casefold() not in seen:
            seen[clean.casefold()] = clean
    return list(seen.values())


def resolve(names: list[str]) -> tuple[list[str], list[str]]:
    """``(names as stored, messages)``: the catalogue's spelling of each name, or the messages
    naming those the catalogue does not have; free text as it is without a catalogue."""
    names = tidy(names)
    errors: list[str] = []
    if len(names) > MAX_GROUPS:
        errors.append(f"At most {MAX_GROUPS} product groups.")
    if any(len(n) > NAME_LENGTH for n in names):
        errors.append(f"A product group's name has at most {NAME_LENGTH} characters.")
    model = catalogue_groups()
    if model is None or not names or errors:
        return names, errors
    wanted = [n.casefold() for n in names]
    found = {}
    for code, name in db_session.execute(
        select(model.code, model.name).where(
            or_(func.lower(model.name).in_(wanted), func.lower(model.code).in_(wanted))
        )
    ):
        found[name.casefold()] = name
        found[code.casefold()] = name
    unknown = [n for n in names if n.casefold() not in found]
    if unknown:
        errors.append("Not in the product catalogue: " + ", ".join(f"“{n}”" for n in unknown) + ".")
    return tidy([found.get(n.casefold(), n) for n in names]), errors
