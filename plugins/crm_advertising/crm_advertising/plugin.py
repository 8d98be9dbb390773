"""Manifest and hook implementations of crm_advertising.

The implementations live next to what they concern and are gathered here, where pluggy finds them.
"""

from __future__ import annotations

from sqlalchemy import or_, select, true

from core import Manifest, MenuItem, ModelDef, Permission, hookimpl
from core.record_rules import RecordRule
from core.reports import ReportDefinition
from crm_advertising.commands import crm_commands  # noqa: F401
from crm_advertising.demo import (
    add_default_kinds,
    crm_demo_data,  # noqa: F401
)
from crm_advertising.home import crm_home_widgets  # noqa: F401
from crm_advertising.models import Location, Material, MaterialKind, Movement, Stock
from crm_advertising.permissions import CONFIGURE, HAND_OUT, MANAGE_STOCK, READ
from crm_advertising.schemas import MaterialSchema, MovementSchema
from crm_advertising.search import crm_search  # noqa: F401
from crm_advertising.sections import crm_client_file_sections  # noqa: F401
from crm_advertising.service import ensure_rep_location, ensure_rep_locations

MANIFEST = Manifest(
    name="crm_advertising",
    label="Advertising",
    summary="Advertising materials: stock, movements, hand-outs to clients",
    depends=("crm_contacts",),
    application=True,
)
EVERYONE = ("sales_manager", "sales_rep", "back_office")


@hookimpl
def crm_models():
    return [
        ModelDef(
            Material, label="Advertising material", schema=MaterialSchema, lookup=("name", "code")
        ),
        ModelDef(MaterialKind, label="Kind of advertising material"),
        ModelDef(Location, label="Advertising stock location"),
        # Stock follows its location's rules, a movement its client's (besides its own rule).
        ModelDef(Stock, label="Advertising stock", owned_by="location_id"),
        ModelDef(
            Movement, label="Advertising movement", schema=MovementSchema, owned_by="client_id"
        ),
    ]


@hookimpl
def crm_blueprints():
    import crm_advertising.views  # noqa: F401 - registers the routes on the blueprints
    from crm_advertising.blueprints import api, bp

    return [bp, api]


@hookimpl
def crm_menus():
    return [
        MenuItem("crm_advertising.root", "Advertising", order=60),
        MenuItem(
            "crm_advertising.materials",
            "Materials",
            endpoint="crm_advertising.material_list",
            parent="crm_advertising.root",
            order=10,
            permission=READ,
        ),
        MenuItem(
            "crm_advertising.stock",
            "Stock",
            endpoint="crm_advertising.stock_page",
            parent="crm_advertising.root",
            order=20,
            permission=READ,
        ),
        MenuItem(
            "crm_advertising.movements",
            "Movements",
            endpoint="crm_advertising.movement_list",
            parent="crm_advertising.root",
            order=30,
            permission=READ,
        ),
        MenuItem(
            "crm_advertising.overview",
            "Hand-outs and costs",
            endpoint="crm_advertising.overview",
            parent="crm_advertising.root",
            order=40,
            permission=MANAGE_STOCK,
        ),
        MenuItem(
            "crm_advertising.settings",
            "Advertising",
            endpoint="crm_advertising.settings_page",
            parent="core.settings",
            order=70,
            permission=CONFIGURE,
        ),
    ]


@hookimpl
def crm_permissions():
    return [
        Permission(READ, "See advertising materials and stock", groups=EVERYONE),
        Permission(
            HAND_OUT,
            "Hand out advertising material to clients and record returns",
            groups=("sales_manager", "sales_rep"),
        ),
        Permission(
            MANAGE_STOCK,
            "Receive, transfer and write off advertising material",
            groups=("sales_manager", "back_office"),
        ),
        Permission(
            CONFIGURE,
            "Edit materials, kinds and locations; told when to reorder",
            groups=("sales_manager",),
        ),
    ]


def _own_locations(user) -> select:
    return select(Location.id).where(Location.user_id == user.id)


@hookimpl
def crm_record_rules():
    # A representative sees the warehouses and her own car, not her colleagues' cars (and so
    # their stock, owned by the location); the movements that touch them, and the hand-outs to
    # the clients she may see.
    return [
        RecordRule(
            "crm_advertising.own_locations",
            "Sales representatives see the warehouses and their own stock",
            Location,
            groups=("sales_rep",),
            criteria=lambda user: or_(Location.kind == "warehouse", Location.user_id == user.id),
        ),
        RecordRule(
            "crm_advertising.all_locations",
            "Sales managers and back office see every location",
            Location,
            groups=("sales_manager", "back_office"),
            criteria=lambda user: true(),
        ),
        RecordRule(
            "crm_advertising.own_movements",
            "Sales representatives see the movements of their own stock and their clients'",
            Movement,
            groups=("sales_rep",),
            # Hand-outs and returns pass here; owned_by="client_id" then keeps only those of the
            # clients she may see, by the clients' own rules.
            criteria=lambda user: or_(
                Movement.from_location_id.in_(_own_locations(user)),
                Movement.to_location_id.in_(_own_locations(user)),
                Movement.client_id.is_not(None),
            ),
        ),
        RecordRule(
            "crm_advertising.all_movements",
            "Sales managers and back office see all movements",
            Movement,
            groups=("sales_manager", "back_office"),
            criteria=lambda user: true(),
        ),
    ]


@hookimpl
def crm_reports():
    model = Movement.__tablename__
    # Hand-outs less their reversals: what went to clients (returns have their own kind).
    handouts = {"field": "kind", "op": "=", "value": "handout"}
    return [
        ReportDefinition(
            id="crm_advertising.handouts_by_material_month",
            title="Advertising hand-outs by material and month",
            model=model,
            order=60,
            spec={
                "filters": [handouts, {"field": "day", "op": "this_year"}],
                "group_by": [{"field": "material.name"}, {"field": "day", "bucket": "month"}],
                "measures": [{"field": "client_delta", "agg": "sum"}],
                "pivot": "day",
                "chart": {"type": "stacked_bar"},
            },
        ),
        ReportDefinition(
            id="crm_advertising.cost_by_client_quarter",
            title="Advertising cost by client and quarter",
            model=model,
            order=61,
            spec={
                "filters": [
                    {"field": "client_id", "op": "is_not_empty"},
                    {"field": "day", "op": "this_year"},
                ],
                "group_by": [{"field": "client.name"}, {"field": "day", "bucket": "quarter"}],
                "measures": [{"field": "client_cost", "agg": "sum"}],
                "pivot": "day",
                "order_by": [{"field": "client_cost:sum", "dir": "desc"}],
                "limit": 100,
            },
        ),
        ReportDefinition(
            id="crm_advertising.by_representative",
            title="Advertising hand-outs by representative",
            model=model,
            order=62,
            spec={
                "filters": [handouts, {"field": "day", "op": "last_n_days", "value": 365}],
                "group_by": [{"field": "created_by.name"}],
                "measures": [
                    {"field": "client_delta", "agg": "sum"},
                    {"field": "client_cost", "agg": "sum"},
                ],
                "chart": {"type": "bar"},
            },
        ),
    ]


@hookimpl
def crm_install(session):
    add_default_kinds(session)
    ensure_rep_locations(session)
    session.flush()


@hookimpl
def crm_user_saved(session, user):
    # A representative's own stock location (her car) is made with her, or when she joins the
    # representatives' group.
    ensure_rep_location(session, user)
