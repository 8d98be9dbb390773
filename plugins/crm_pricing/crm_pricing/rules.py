"""Saving pricing rules: the one place that turns validated data into a ``PricingRule``, for the
rules page and the API alike."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_contacts.models import Client, CustomerGroup
from crm_pricing.models import PricingRule
from crm_sales.models import Product, ProductGroup

FIELDS = (
    "name", "kind", "mode", "priority", "active", "client_id", "customer_group_id", "product_id",
    "product_group_id", "valid_from", "valid_to", "notes",
)  # fmt: skip
_REFERENCES = {
    "client_id": (Client, "No such client."),
    "customer_group_id": (CustomerGroup, "No such customer group."),
    "product_id": (Product, "No such product."),
    "product_group_id": (ProductGroup, "No such product group."),
}


def check_references(session: Session, data: dict[str, Any]) -> None:
    """Every id the rule names exists (one query per id given); raises ``ValidationError``."""
    errors = {}
    for name, (model, message) in _REFERENCES.items():
        value = data.get(name)
        if value is not None and session.scalar(select(model.id).where(model.id == value)) is None:
            errors[name] = [message]
    if errors:
        raise ValidationError(errors)


def apply_rule_data(session: Session, rule: PricingRule, data: dict[str, Any]) -> PricingRule:
    check_references(session, data)
    for name in FIELDS:
        if name in data:
            setattr(rule, name, data[name])
    if "params" in data:
        rule.params = data["params"]
    return rule
