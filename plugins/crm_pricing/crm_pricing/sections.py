"""crm_pricing's section of the client file: the client's negotiated discounts (the rules for the
client and for its customer group, and what automatic kinds such as contract conditions grant it)
and where it stands against each turnover tier.

A constant number of queries for the rules (one), plus one for the turnover of every period the
client's tier rules ask about (one per period when a tier is limited to product groups).
"""

from __future__ import annotations

import json
from contextlib import suppress
from decimal import Decimal
from typing import Any

from flask import render_template
from markupsafe import Markup
from marshmallow import ValidationError
from sqlalchemy import select, union_all
from sqlalchemy.orm import joinedload

from core import hookimpl
from core.auth import has_permission
from core.db import db_session
from core.timezone import local_today
from crm_contacts.hookspecs import ClientFileSection
from crm_pricing.engine import validity
from crm_pricing.kinds import TURNOVER_TIERS
from crm_pricing.models import PricingRule
from crm_pricing.permissions import READ, WRITE
from crm_pricing.service import (
    EVERYONE,
    CachedTurnover,
    current_kinds,
    own_and_group,
    stored_params,
)
from crm_pricing.standing import tier_standing


def _rules_for(client: Any) -> list[PricingRule]:
    """The client's own rules, its group's, and the rules for every client. Each kind of rule is
    looked up by its own index and the ids united: one OR of the three let SQLite read every
    active rule of the installation, thousands once clients have prices of their own."""
    ids = union_all(
        *(
            select(PricingRule.id).where(PricingRule.active.is_(True), whom)
            for whom in (*own_and_group(client), EVERYONE)
        )
    )
    stmt = (
        select(PricingRule)
        .where(PricingRule.id.in_(ids))
        .options(joinedload(PricingRule.product), joinedload(PricingRule.product_group))
        .order_by(PricingRule.priority, PricingRule.name, PricingRule.id)
    )
    return list(db_session.scalars(stmt))


def _summary(params: dict[str, Any]) -> str:
    return ", ".join(f"{k} {json.dumps(v)}" for k, v in sorted(params.items()))


ZERO = Decimal(0)


@hookimpl
def crm_client_file_sections(client: Any, user: Any) -> list[ClientFileSection]:
    if not has_permission(READ, user):
        return []
    today = local_today()
    kinds = current_kinds()
    rules = _rules_for(client)
    turnover = CachedTurnover(db_session, client.id)
    negotiated, general, tiers = [], [], []
    for rule in rules:
        valid = validity(rule, today) is None
        kind = kinds.get(rule.kind)
        if rule.kind == TURNOVER_TIERS and kind is not None and valid:
            # A rule whose params no longer fit its kind is left out.
            with suppress(ValidationError, ValueError):
                tiers.append((rule, stored_params(kind.schema, rule.params_json or "{}")))
        label = kind.label if kind else rule.kind
        if rule.client_id is not None or rule.customer_group_id is not None:
            negotiated.append((rule, label, valid))
        elif valid and rule.kind != TURNOVER_TIERS:  # tiers are shown with the standing above
            general.append((rule, label, valid))
    # The tiers' periods asked first (a dry run that records them), then their turnover in one
    # query rather than one per period.
    asked: list[tuple] = []

    def record(start, end, groups=None, *, quantity=False) -> Decimal:
        asked.append((start, end, groups, quantity))
        return ZERO

    for _rule, params in tiers:
        tier_standing(params, record, today)
    turnover.prefetch(asked)
    standings = [(rule, tier_standing(params, turnover, today)) for rule, params in tiers]
    # What automatic kinds grant with no configured rule (a contract's conditions): the same list,
    # so that "none" is only said when nothing at all applies to the client.
    granted = [
        (kind.label, text)
        for kind in kinds.values()
        if kind.describe_terms is not None
        for text in kind.describe_terms(db_session, client.id, today)
    ]
    html = Markup(  # noqa: S704 - a template rendered by Jinja with autoescaping
        render_template(
            "crm_pricing/section_client.html",
            client=client,
            negotiated=negotiated,
            granted=granted,
            general=general,
            standings=standings,
            summary=_summary,
            can_write=has_permission(WRITE, user),
            today=today,
        )
    )
    return [ClientFileSection("crm_pricing.discounts", "Prices and discounts", html, order=45)]
