"""Manifest and hook implementations of crm_competitors.

The implementations live next to what they concern and are gathered here, where pluggy finds them.
"""

from __future__ import annotations

from core import Manifest, MenuItem, ModelDef, Permission, hookimpl
from core.reports import ReportDefinition
from crm_competitors.demo import crm_demo_data  # noqa: F401
from crm_competitors.models import Change, Competitor, Presence
from crm_competitors.permissions import CONFIGURE, READ, WRITE
from crm_competitors.schemas import ChangeSchema, CompetitorSchema, PresenceSchema
from crm_competitors.search import crm_search  # noqa: F401
from crm_competitors.sections import crm_client_file_sections  # noqa: F401

MANIFEST = Manifest(
    name="crm_competitors",
    label="Competitors",
    summary="Competitors, where they are present, and changes in their strategy",
    depends=("crm_contacts",),
    # Demo presences and changes name the catalogue's product groups when crm_sales is there.
    after=("crm_sales",),
    application=True,
)


@hookimpl
def crm_models():
    return [
        ModelDef(Competitor, label="Competitor", schema=CompetitorSchema, lookup=("name",)),
        # A presence is a fact about a client: seen by those who may see the client. Competitors
        # and their moves are shared knowledge: no rule.
        ModelDef(
            Presence, label="Competitor presence", schema=PresenceSchema, owned_by="client_id"
        ),
        ModelDef(Change, label="Strategy change", schema=ChangeSchema),
    ]


@hookimpl
def crm_blueprints():
    import crm_competitors.views  # noqa: F401 - registers the routes on the blueprints
    from crm_competitors.blueprints import api, bp

    return [bp, api]


@hookimpl
def crm_menus():
    return [
        MenuItem("crm_competitors.root", "Competitors", order=60),
        MenuItem("crm_competitors.competitors", "All competitors",
                 endpoint="crm_competitors.competitor_list", parent="crm_competitors.root",
                 order=10, permission=READ),
        MenuItem("crm_competitors.changes", "Recent moves", endpoint="crm_competitors.change_list",
                 parent="crm_competitors.root", order=20, permission=READ),
        MenuItem("crm_competitors.presences", "Presence at clients",
                 endpoint="crm_competitors.presence_list", parent="crm_competitors.root",
                 order=30, permission=READ),
        MenuItem("crm_competitors.new", "New competitor", endpoint="crm_competitors.competitor_new",
                 parent="crm_competitors.root", order=40, permission=WRITE),
    ]  # fmt: skip


@hookimpl
def crm_permissions():
    return [
        Permission(
            READ,
            "Read competitors, their moves and where they are present",
            groups=("sales_manager", "sales_rep", "back_office"),
        ),
        Permission(
            WRITE,
            "Record competitors, their moves and their presence at clients",
            groups=("sales_manager", "sales_rep"),
        ),
        Permission(CONFIGURE, "Delete competitors and recorded moves", groups=("sales_manager",)),
    ]


@hookimpl
def crm_reports():
    presences, changes = Presence.__tablename__, Change.__tablename__
    return [
        ReportDefinition(
            id="crm_competitors.presences_by_region",
            title="Competitors' presence by region",
            model=presences,
            columns=("competitor_id", "region_id", "id", "share_percent"),
            filters=("competitor_id", "region_id", "since", "until"),
            group_by=("competitor_id", "region_id"),
            aggregates={"id": "count", "share_percent": "avg"},
            chart="bar",
        ),
        ReportDefinition(
            id="crm_competitors.changes_by_quarter",
            title="Competitors' moves by kind and quarter",
            model=changes,
            columns=("kind", "quarter", "id"),
            filters=("competitor_id", "kind", "occurred_on"),
            group_by=("kind", "quarter"),
            aggregates={"id": "count"},
            chart="bar",
        ),
        ReportDefinition(
            id="crm_competitors.clients_at_risk",
            title="Clients at risk: a competitor's share above 30 %",
            model=presences,
            columns=("client_id", "competitor_id", "share_percent", "since", "region_id"),
            filters=("at_risk", "competitor_id", "region_id", "until"),
            group_by=(),
            aggregates={},
            chart=None,
        ),
    ]
