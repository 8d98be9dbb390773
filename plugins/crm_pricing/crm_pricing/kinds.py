"""The rule kinds crm_pricing brings, given through ``crm_pricing_rules`` like anybody else's.

Each is a marshmallow schema of its parameters and a pure ``evaluate(context, params)``: it returns
an ``Adjustment`` when the rule applies, else the reason why not (with the missing amount where a
threshold was missed). Whom and which products a rule concerns (a client, a customer group, a
product, a product group with its subgroups) and its validity dates are the rule's, checked by the
engine before ``evaluate`` is called; the kinds look only at their own conditions.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from core.pricing import Adjustment, PricingContext, PricingRuleKind
from crm_pricing.money import fmt_amount, fmt_percent
from crm_pricing.periods import (
    BASES,
    PERIOD_ADJECTIVES,
    PERIOD_MONTHS,
    PERIOD_NOUNS,
    basis_period,
)

DISCOUNT = "crm_pricing.discount"
PRODUCT_GROUP_DISCOUNT = "crm_pricing.product_group_discount"
CUSTOMER_GROUP_DISCOUNT = "crm_pricing.customer_group_discount"
QUANTITY_BREAKS = "crm_pricing.quantity_breaks"
TURNOVER_TIERS = "crm_pricing.turnover_tiers"
GROUP_PURCHASE = "crm_pricing.group_purchase"
EARLY_PAYMENT = "crm_pricing.early_payment"
FIXED_PRICE = "crm_pricing.fixed_price"

#: What a rule of a bundled kind must name besides its parameters (checked when it is saved).
REQUIRED_SCOPE: dict[str, tuple[str, ...]] = {
    PRODUCT_GROUP_DISCOUNT: ("product_group_id",),
    CUSTOMER_GROUP_DISCOUNT: ("customer_group_id",),
    FIXED_PRICE: ("product_id",),
}


def _percent(**kwargs: Any) -> fields.Decimal:
    return fields.Decimal(
        validate=validate.Range(min=0, max=100), allow_nan=False, metadata={"unit": "%"}, **kwargs
    )


def _amount(**kwargs: Any) -> fields.Decimal:
    return fields.Decimal(validate=validate.Range(min=0), allow_nan=False, **kwargs)


class PercentSchema(Schema):
    percent = _percent(required=True)


class TierSchema(Schema):
    threshold = _amount(required=True, metadata={"label": "From (threshold)"})
    percent = _percent(required=True)


def _sorted_tiers(data: dict[str, Any]) -> dict[str, Any]:
    data["tiers"] = sorted(data["tiers"], key=lambda t: t["threshold"])
    return data


class _TiersSchema(Schema):
    tiers = fields.List(
        fields.Nested(TierSchema),
        required=True,
        validate=validate.Length(min=1),
        metadata={"description": "Each row: from this threshold on, this discount."},
    )

    @validates_schema
    def _distinct(self, data: dict[str, Any], **_: Any) -> None:
        thresholds = [t["threshold"] for t in data.get("tiers", [])]
        if len(set(thresholds)) != len(thresholds):
            raise ValidationError("Two tiers have the same threshold.", "tiers")
        ordered = sorted(data.get("tiers", []), key=lambda t: t["threshold"])
        if any(a["percent"] > b["percent"] for a, b in zip(ordered, ordered[1:], strict=False)):
            raise ValidationError("A higher threshold cannot give a smaller percent.", "tiers")

    @post_load
    def _order(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return _sorted_tiers(data)


class QuantityBreaksSchema(_TiersSchema):
    """``tiers``: ``[{"threshold": 100, "percent": 3}, ...]``, the quantity on the line."""


#: Product-group fields are pickers of the catalogue's groups in the generated rule form.
_GROUPS = "crm_sales_product_group"


class _PeriodFields(Schema):
    period = fields.String(
        required=True,
        validate=validate.OneOf(tuple(PERIOD_MONTHS)),
        metadata={"choices": {k: v.capitalize() for k, v in PERIOD_NOUNS.items()}},
    )
    basis = fields.String(
        load_default="last_completed",
        validate=validate.OneOf(BASES),
        metadata={
            "choices": {
                "last_completed": "The last completed calendar period",
                "rolling": "The same length up to yesterday",
            }
        },
    )


class TurnoverTiersSchema(_TiersSchema, _PeriodFields):
    """``period``, ``basis``, ``group_ids`` (empty: all goods) and ``tiers`` of turnover → %."""

    group_ids = fields.List(
        fields.Integer(strict=False),
        load_default=list,
        metadata={
            "picker": _GROUPS,
            "label": "Turnover of the product groups",
            "description": "Empty: all goods.",
        },
    )


class GroupPurchaseSchema(_PeriodFields):
    """Bought at least ``threshold`` (an amount, or a quantity) of ``group_ids`` in the period:
    ``percent`` on ``target_group_ids`` (empty: on the products the rule is for)."""

    group_ids = fields.List(
        fields.Integer(strict=False),
        required=True,
        validate=validate.Length(min=1),
        metadata={"picker": _GROUPS, "label": "Bought of the product groups"},
    )
    measure = fields.String(
        load_default="amount",
        validate=validate.OneOf(("amount", "quantity")),
        metadata={"choices": {"amount": "An amount", "quantity": "A quantity"}},
    )
    threshold = _amount(required=True)
    percent = _percent(required=True)
    target_group_ids = fields.List(
        fields.Integer(strict=False),
        load_default=list,
        metadata={
            "picker": _GROUPS,
            "label": "Discount on the product groups",
            "description": "Empty: on the products the rule is for.",
        },
    )


class EarlyPaymentSchema(Schema):
    days = fields.Integer(
        required=True,
        strict=False,
        validate=validate.Range(min=0, max=365),
        metadata={"label": "Paid within", "unit": "days"},
    )
    percent = _percent(required=True)


class FixedPriceSchema(Schema):
    price = _amount(required=True)


def _group_names(params: dict[str, Any], ids: list[int]) -> str:
    names = (params.get("_prepared") or {}).get("groups", {})
    return ", ".join(names.get(i, f"group {i}") for i in ids)


def evaluate_percent(label: str):
    def evaluate(context: PricingContext, params: dict[str, Any]) -> Adjustment | str:
        percent = params["percent"]
        return Adjustment(f"{label} {fmt_percent(percent)}", discount_percent=percent)

    return evaluate


def tier_of(tiers: list[dict[str, Any]], amount: Decimal) -> tuple[dict | None, dict | None]:
    """The last tier ``amount`` reaches and the first it does not (the schemas sort tiers by
    threshold: the highest reached and the next one up), None where there is none."""
    reached = next_tier = None
    for tier in tiers:
        if amount >= tier["threshold"]:
            reached = tier
        elif next_tier is None:
            next_tier = tier
    return reached, next_tier


def evaluate_quantity_breaks(context: PricingContext, params: dict[str, Any]) -> Adjustment | str:
    quantity = context.quantity
    tier, nxt = tier_of(params["tiers"], quantity)
    if tier is None:
        return (
            f"quantity {fmt_amount(quantity, 0)} is {fmt_amount(nxt['threshold'] - quantity, 0)} "
            f"short of the {fmt_amount(nxt['threshold'], 0)} break "
            f"({fmt_percent(nxt['percent'])})"
        )
    hint = ""
    if nxt is not None:
        hint = (
            f"; {fmt_amount(nxt['threshold'] - quantity, 0)} more units reach "
            f"{fmt_percent(nxt['percent'])}"
        )
    return Adjustment(
        f"quantity {fmt_amount(quantity, 0)} reaches the {fmt_amount(tier['threshold'], 0)} break: "
        f"{fmt_percent(tier['percent'])}{hint}",
        discount_percent=tier["percent"],
    )


def evaluate_turnover_tiers(context: PricingContext, params: dict[str, Any]) -> Adjustment | str:
    period = basis_period(context.on, params["period"], params["basis"])
    groups = tuple(params["group_ids"]) or None
    amount = context.turnover(period.start, period.end, groups)
    adjective = PERIOD_ADJECTIVES[params["period"]]
    what = f"{adjective} turnover" if params["basis"] == "last_completed" else "turnover"
    scope = f" in {_group_names(params, list(groups))}" if groups else ""
    subject = f"{period.label}: {what}{scope} {fmt_amount(amount)}"
    tier, nxt = tier_of(params["tiers"], amount)
    short = nxt and (
        f"{fmt_amount(nxt['threshold'] - amount)} short of the "
        f"{fmt_amount(nxt['threshold'])} tier ({fmt_percent(nxt['percent'])})"
    )
    if tier is None:
        return f"{subject} is {short}"
    return Adjustment(
        f"{subject} reaches the {fmt_amount(tier['threshold'])} tier: "
        f"{fmt_percent(tier['percent'])}{'; ' + short if short else ''}",
        discount_percent=tier["percent"],
    )


def evaluate_group_purchase(context: PricingContext, params: dict[str, Any]) -> Adjustment | str:
    targets = params["target_group_ids"]
    if targets and not set(targets) & set(context.product_group_ids):
        return f"only for products of {_group_names(params, targets)}"
    period = basis_period(context.on, params["period"], params["basis"])
    by_quantity = params["measure"] == "quantity"
    bought = context.turnover(
        period.start, period.end, tuple(params["group_ids"]), quantity=by_quantity
    )
    places = 0 if by_quantity else 2
    unit = " units" if by_quantity else ""
    subject = (
        f"bought {fmt_amount(bought, places)}{unit} of {_group_names(params, params['group_ids'])}"
        f" in {period.label}"
    )
    threshold = params["threshold"]
    if bought < threshold:
        return (
            f"{subject}, {fmt_amount(threshold - bought, places)}{unit} short of "
            f"{fmt_amount(threshold, places)}{unit} ({fmt_percent(params['percent'])})"
        )
    return Adjustment(
        f"{subject} (at least {fmt_amount(threshold, places)}{unit}): "
        f"{fmt_percent(params['percent'])}",
        discount_percent=params["percent"],
    )


def evaluate_early_payment(context: PricingContext, params: dict[str, Any]) -> Adjustment | str:
    days, percent = params["days"], params["percent"]
    if context.payment_days is None:
        return f"no payment term given; paying within {days} days gives {fmt_percent(percent)}"
    if context.payment_days > days:
        return (
            f"payment in {context.payment_days} days; within {days} days would give "
            f"{fmt_percent(percent)}"
        )
    return Adjustment(
        f"payment in {context.payment_days} days (within {days}): {fmt_percent(percent)}",
        discount_percent=percent,
    )


def evaluate_fixed_price(context: PricingContext, params: dict[str, Any]) -> Adjustment | str:
    price = params["price"]
    return Adjustment(
        f"fixed client price {fmt_amount(price)} {context.currency}", base_price=price
    )


def prepare_group_names(session: Any, client_ids: tuple[int, ...], on: Any) -> dict[str, Any]:
    """The names of product groups, for the reasons of the kinds that name groups: one query."""
    if session is None:
        return {}
    from sqlalchemy import select

    from crm_sales.models import ProductGroup

    return {"groups": dict(session.execute(select(ProductGroup.id, ProductGroup.name)).all())}


BUNDLED_KINDS: tuple[PricingRuleKind, ...] = (
    PricingRuleKind(
        FIXED_PRICE, "Fixed client price", FixedPriceSchema, evaluate_fixed_price, order=10
    ),
    PricingRuleKind(
        DISCOUNT,
        "Negotiated discount",
        PercentSchema,
        evaluate_percent("negotiated discount"),
        order=15,
    ),
    PricingRuleKind(
        PRODUCT_GROUP_DISCOUNT,
        "Product-group discount",
        PercentSchema,
        evaluate_percent("product-group discount"),
        order=20,
    ),
    PricingRuleKind(
        CUSTOMER_GROUP_DISCOUNT,
        "Customer-group discount",
        PercentSchema,
        evaluate_percent("customer-group discount"),
        order=30,
    ),
    PricingRuleKind(
        QUANTITY_BREAKS, "Quantity breaks", QuantityBreaksSchema, evaluate_quantity_breaks, order=40
    ),
    PricingRuleKind(
        TURNOVER_TIERS,
        "Turnover tiers",
        TurnoverTiersSchema,
        evaluate_turnover_tiers,
        order=50,
        prepare=prepare_group_names,
    ),
    PricingRuleKind(
        GROUP_PURCHASE,
        "Purchase of product groups",
        GroupPurchaseSchema,
        evaluate_group_purchase,
        order=60,
        prepare=prepare_group_names,
    ),
    PricingRuleKind(
        EARLY_PAYMENT, "Early payment", EarlyPaymentSchema, evaluate_early_payment, order=70
    ),
)

#: What each bundled kind reads of the pricing context besides the client and the date: a run
#: computes a rule's outcome once per distinct value (``engine.Memo``), e.g. a turnover tier once
#: for a whole price list.
MEMO_KEYS = {
    DISCOUNT: lambda c: None,
    PRODUCT_GROUP_DISCOUNT: lambda c: None,
    CUSTOMER_GROUP_DISCOUNT: lambda c: None,
    QUANTITY_BREAKS: lambda c: c.quantity,
    TURNOVER_TIERS: lambda c: None,
    GROUP_PURCHASE: lambda c: c.product_group_ids,
    EARLY_PAYMENT: lambda c: c.payment_days,
    FIXED_PRICE: lambda c: c.currency,
}

#: An example of the parameters of each bundled kind, shown on the rule form and in the docs.
EXAMPLES: dict[str, str] = {
    FIXED_PRICE: '{"price": "12.40"}',
    DISCOUNT: '{"percent": "4"}',
    PRODUCT_GROUP_DISCOUNT: '{"percent": "5"}',
    CUSTOMER_GROUP_DISCOUNT: '{"percent": "3"}',
    QUANTITY_BREAKS: (
        '{"tiers": [{"threshold": 100, "percent": 2}, {"threshold": 500, "percent": 4}]}'
    ),
    TURNOVER_TIERS: (
        '{"period": "quarter", "basis": "last_completed", "group_ids": [], '
        '"tiers": [{"threshold": 20000, "percent": 2}, {"threshold": 50000, "percent": 3}]}'
    ),
    GROUP_PURCHASE: (
        '{"period": "year", "basis": "last_completed", "group_ids": [3], "measure": "amount", '
        '"threshold": 10000, "percent": 2, "target_group_ids": [5]}'
    ),
    EARLY_PAYMENT: '{"days": 10, "percent": 2}',
}
