"""Manifest and hook implementations of crm_pricing.

The implementations live next to what they concern and are gathered here, where pluggy finds them.
"""

from __future__ import annotations

from core import Manifest, MenuItem, ModelDef, Permission, hookimpl
from crm_pricing.demo import crm_demo_data  # noqa: F401
from crm_pricing.kinds import BUNDLED_KINDS
from crm_pricing.models import DiscountCap, PricingRule
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
