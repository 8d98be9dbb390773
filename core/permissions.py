"""Route permission declarations.

Every view declares what it needs with ``@permission_required(code)``, ``@permission_required(
AUTHENTICATED)`` (any logged-in user) or ``@permission_required(PUBLIC)``. A blueprint may declare
a default for all its views with ``declare_blueprint_permission``. The core refuses a request to a
view that declares nothing: forgetting is a 403, never a leak.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from flask import Blueprint

PUBLIC = "__public__"
AUTHENTICATED = "__authenticated__"
ATTRIBUTE = "crm_permission"

F = TypeVar("F", bound=Callable)


@dataclass(frozen=True)
class Permission:
    """A permission a module defines through ``crm_permissions``.

    ``code`` is ``<module>.<action>`` (for example ``crm_contacts.read``); ``groups`` are the codes
    of the default groups that receive it when the module is installed.
    """

    code: str
    label: str
    groups: tuple[str, ...] = ()
    module: str = ""


def permission_required(code: str) -> Callable[[F], F]:
    def mark(view: F) -> F:
        setattr(view, ATTRIBUTE, code)
        return view

    return mark


def declare_blueprint_permission(blueprint: Blueprint, code: str) -> None:
    """The permission of every view of ``blueprint`` that declares none of its own."""
    blueprint.crm_permission = code  # type: ignore[attr-defined]


def required_permission(view: Callable | None, blueprint: Blueprint | None) -> str | None:
    """What a view declared, else its blueprint's default; None when nothing was declared."""
    declared = getattr(view, ATTRIBUTE, None) if view is not None else None
    if declared is None:
        # Class-based views keep the declaration on the class.
        view_class = getattr(view, "view_class", None)
        declared = getattr(view_class, ATTRIBUTE, None)
    if declared is None and blueprint is not None:
        declared = getattr(blueprint, "crm_permission", None)
    return declared


# Default groups; the users issue lets administrators edit them. Their codes are what plugins name
# in Permission.groups.
DEFAULT_GROUPS: dict[str, str] = {
    "admin": "Administrator",
    "sales_manager": "Sales manager",
    "sales_rep": "Sales representative",
    "back_office": "Back office",
}


def permission_codes(permissions: Iterable[Permission]) -> set[str]:
    return {p.code for p in permissions}
