"""Extension points crm_contacts owns (added to the plugin manager through ``crm_addhooks``).

Documented for module authors in ``docs/modules/crm_contacts.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from core.hookspecs import hookspec

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement
    from sqlalchemy.orm import Session

    from core.models import User
    from crm_contacts.models import Client


@dataclass(frozen=True)
class ClientFileSection:
    """One section (a card) of the client file.

    ``id`` names the section in the page (``<section id="section-<id>">``, so a link can jump to
    it): prefix it with your module name. ``title`` is the card's heading. ``html`` is the card's
    body, already rendered and safe (``Markup(render_template(...))``): the page shows it as is,
    so escape what users typed (Jinja does). Sections are sorted by ``(order, title)``; the
    module's own sections use 10 to 90 and the history 1000. ``module`` is filled in by
    crm_contacts with the name of the module that gave the section.
    """

    id: str
    title: str
    html: Markup
    order: int = 100
    module: str = ""


@hookspec
def crm_client_file_sections(client: Client, user: User) -> list[ClientFileSection]:
    """Sections that a module adds to the client file of ``client``, as seen by ``user``.

    Called while the page ``crm_contacts.client_file`` is rendered, during the request, for every
    installed module that implements it, once per page. ``client`` is loaded with its addresses,
    phones, emails, contact persons (and their phones and emails), bank accounts, tags, customer
    group and responsible user: reading those costs no query. Return an empty list to add nothing
    (for instance when ``user`` lacks your read permission). Each section should issue a constant
    number of queries, whatever the size of the client's history. A failing implementation is
    logged and its sections skipped; the page still opens.
    """


@hookspec
def crm_client_since(client: Client) -> date | None:
    """The day ``client`` became a client as far as your module knows (crm_sales: the date of its
    first sales document), or None. The client file shows the earliest answer as "Client since",
    and the day the client was entered in the CRM when no module answers."""


@dataclass(frozen=True)
class ClientColumn:
    """A column a user may add to the client list.

    ``key`` names it in the query string (``?sort=<key>``) and in the user's saved choice: prefix
    it with your module name (``crm_sales.turnover_year``). ``label`` is its header.
    ``values(session, client_ids)`` returns ``{client_id: value}`` for the clients of the page
    shown (at most a page, 50), in ONE query through ``session`` (the request's: record rules
    apply), never one per client; a client missing from the answer shows "—". A value is shown as
    text; a ``Decimal`` with two decimals and thousands separated, a ``datetime`` as its local
    day, a ``date`` as ISO. ``sort``, if given, is an SQL expression with one value per client,
    correlated to ``crm_contacts_client.id`` (a scalar subquery such as
    ``select(func.max(X.at)).where(X.client_id == Client.id).scalar_subquery()``): the list
    orders the page's ids by it in the same single query with LIMIT and OFFSET, NULLs last. Leave
    it ``None`` to make the column not sortable. ``numeric`` aligns the column right. Columns are
    offered in ``(order, label)`` order; crm_contacts' own use 10 to 90.
    """

    key: str
    label: str
    values: Callable[[Session, list[int]], Mapping[int, Any]]
    sort: ColumnElement[Any] | None = None
    numeric: bool = False
    order: int = 100
    module: str = ""


@hookspec
def crm_contacts_client_columns(user: User) -> Iterable[ClientColumn]:
    """Columns your module offers on the client list to ``user`` (return none when ``user``
    lacks your read permission). Called once per display of the list, during the request; build
    date-dependent expressions (this year) here. A failing implementation is logged and its
    columns left out."""
