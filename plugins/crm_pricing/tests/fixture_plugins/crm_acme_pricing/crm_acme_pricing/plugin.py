"""A partner's module that adds two kinds of pricing rules through ``crm_pricing_rules`` alone: it
imports only the core (not crm_pricing, not the catalogue) and declares no dependency.

- ``crm_acme_pricing.full_packs``: ordering whole packs of ``pack`` units gives ``percent``;
- ``crm_acme_pricing.launch_week``: automatic (no rule to configure), 1 % in the launch week;
- ``crm_acme_pricing.bundles``: a schema with a table, a choice, a date and a picker, whose form
  the core generates like the bundled kinds' ones.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from marshmallow import fields, validate

from core import Manifest, hookimpl
from core.pricing import Adjustment, PricingRuleKind
from core.schemas import Schema

MANIFEST = Manifest(name="crm_acme_pricing", summary="Acme's pricing rules", application=False)

LAUNCH_WEEK = (date(2026, 11, 23), date(2026, 11, 29))


class FullPacksSchema(Schema):
    pack = fields.Integer(required=True, validate=validate.Range(min=2))
    percent = fields.Decimal(required=True, validate=validate.Range(min=0, max=10))


class BundleLineSchema(Schema):
    size = fields.Integer(required=True, validate=validate.Range(min=1))
    percent = fields.Decimal(
        required=True, validate=validate.Range(min=0, max=10), metadata={"unit": "%"}
    )


class BundlesSchema(Schema):
    lines = fields.List(fields.Nested(BundleLineSchema), required=True)
    colour = fields.String(
        load_default="red",
        validate=validate.OneOf(("red", "blue")),
        metadata={"choices": {"red": "Red boxes", "blue": "Blue boxes"}},
    )
    until = fields.Date(metadata={"label": "Offer ends"})
    group_id = fields.Integer(metadata={"picker": "crm_sales_product_group", "label": "Group"})


def bundles(context, params):
    return "never in this test"


def full_packs(context, params):
    pack = params["pack"]
    if context.quantity % pack:
        more = pack - context.quantity % pack
        return f"{context.quantity} is not whole packs of {pack}: {more} more would be"
    return Adjustment(
        f"{context.quantity / pack:.0f} whole packs of {pack}: {params['percent']} %",
        discount_percent=params["percent"],
    )


def launch_week(context, params):
    start, end = LAUNCH_WEEK
    if not start <= context.on <= end:
        return "outside the launch week"
    return Adjustment("launch week: 1 %", discount_percent=Decimal(1))


@hookimpl
def crm_pricing_rules():
    return [
        PricingRuleKind("crm_acme_pricing.full_packs", "Full packs (Acme)", FullPacksSchema,
                        full_packs, order=45),
        PricingRuleKind("crm_acme_pricing.launch_week", "Launch week (Acme)", Schema, launch_week,
                        order=90, automatic=True),
        PricingRuleKind("crm_acme_pricing.bundles", "Bundles (Acme)", BundlesSchema, bundles),
    ]  # fmt: skip
