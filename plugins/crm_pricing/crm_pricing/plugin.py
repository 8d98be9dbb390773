"""Manifest and hook implementations of crm_pricing.

The implementations live next to what they concern and are gathered here, where pluggy finds them.
"""

from __future__ import annotations

from core import Manifest, MenuItem, ModelDef, Permission, hookimpl
from core.reports import ReportDefinition
from crm_pricing.bulk import crm_jobs, crm_periodic_jobs  # noqa: F401
from crm_pricing.demo import crm_demo_data  # noqa: F401
from crm_pricing.kinds import BUNDLED_KINDS
from crm_pricing.models import ClientTier, DiscountCap, PricingRule
from crm_pricing.permissions import READ, WRITE
from crm_pricing.sections import crm_client_file_sections  # noqa: F401

MANIFEST = Manifest(
    name="crm_pricing",
    label="Pricing",
    summary="Client-specific prices from turnover, quantity, groups and early payment",
    depends=("crm_contacts", "crm_sales"),
    application=True,
)


@hookimpl
def crm_models():
    return [
        # A rule for one client follows the client's record rules; a rule for a group or for
        # everyone (no client) is seen by all who may read pricing.
        ModelDef(PricingRule, label="Pricing rule", owned_by="client_id"),
        ModelDef(DiscountCap, label="Discount cap"),
        # Where each client stands against each turnover-tier rule: the client's rows only.
        ModelDef(ClientTier, label="Client turnover tier", owned_by="client_id"),
    ]


@hookimpl
def crm_blueprints():
    import crm_pricing.views  # noqa: F401 - registers the routes on the blueprints
    from crm_pricing.blueprints import api, bp

    return [bp, api]


@hookimpl
def crm_menus():
    return [
        MenuItem("crm_pricing.root", "Pricing", order=40),
        MenuItem("crm_pricing.simulator", "Quote simulator", endpoint="crm_pricing.simulator",
                 parent="crm_pricing.root", order=10, permission=READ),
        MenuItem("crm_pricing.batch", "Quote many lines", endpoint="crm_pricing.batch",
                 parent="crm_pricing.root", order=20, permission=READ),
        MenuItem("crm_pricing.rules", "Pricing rules", endpoint="crm_pricing.rule_list",
                 parent="crm_pricing.root", order=30, permission=READ),
        MenuItem("crm_pricing.price_lists", "Price lists of many clients",
                 endpoint="crm_pricing.price_lists_many", parent="crm_pricing.root", order=40,
                 permission=READ),
    ]  # fmt: skip


@hookimpl
def crm_permissions() -> list[Permission]:
    return [
        Permission(
            READ,
            "Read pricing rules and price lists",
            groups=("sales_manager", "sales_rep", "back_office"),
        ),
        Permission(
            WRITE,
            "Create and edit pricing rules and price lists",
            groups=("sales_manager",),
        ),
    ]


@hookimpl
def crm_pricing_rules():
    return list(BUNDLED_KINDS)


@hookimpl
def crm_reports():
    return [
        # A quote computes a client's tier from its turnover; reports count the standing that
        # crm_pricing.tiers writes down every morning (computed_on says when).
        ReportDefinition(
            id="crm_pricing.clients_per_turnover_tier",
            title="Clients per turnover tier",
            model=ClientTier.__tablename__,
            order=5,
            description="Each turnover-tier rule's clients by the tier their turnover of the "
            "rule's basis period reaches (as of the last refresh, every morning).",
            spec={
                "group_by": [{"field": "rule.name"}, {"field": "tier"}],
                "measures": [
                    {"field": "client_id", "agg": "count_distinct"},
                    {"field": "turnover", "agg": "sum"},
                ],
                "chart": {"type": "bar"},
            },
        ),
        ReportDefinition(
            id="crm_pricing.rules_by_kind_group",
            title="Clients and customer groups with pricing rules, by kind",
            model=PricingRule.__tablename__,
            order=10,
            spec={
                "filters": [{"field": "active", "op": "=", "value": True}],
                "group_by": [{"field": "kind"}, {"field": "customer_group.name"}],
                "measures": [
                    {"field": "id", "agg": "count"},
                    {"field": "client_id", "agg": "count_distinct"},
                ],
                "chart": {"type": "bar"},
            },
        ),
    ]
