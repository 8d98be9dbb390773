"""Clients per turnover tier: where each client stands against each active turnover-tier rule,
kept in ``crm_pricing_client_tier`` for reports.

A quote computes a client's tier from its turnover at that moment; a report over 100,000
clients cannot, since the tier is a threshold lookup in a rule's JSON parameters that SQL does not
see. So the standing is written down: every morning (the periodic job
``crm_pricing.refresh_tiers``) and after the demo data. It changes only when a rule's basis
period rolls over (the last completed month or quarter: at most once a period), or a past invoice
is corrected, or for a rolling basis day by day: a daily refresh keeps what a report counts as
of this morning, and says so (``computed_on``). Rows follow their client's record rules
(``owned_by``), so a representative counts only her clients.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from core.timezone import local_today
from crm_contacts.models import Client
from crm_pricing.kinds import BUNDLED_KINDS, TURNOVER_TIERS
from crm_pricing.models import ClientTier, PricingRule
from crm_pricing.money import fmt_amount, fmt_percent
from crm_pricing.periods import basis_period
from crm_pricing.service import stored_params
from crm_sales.turnover import turnover_by_client

ALL = {"crm_all_records": True}  # a system refresh: every client, whoever runs it


def tier_label(tiers: list[dict[str, Any]], turnover: Any) -> tuple[str, Any]:
    """("2. from 5,000.00: 2 %", percent) of the highest tier ``turnover`` reaches; the number
    in front keeps the tiers in order where a report sorts them as text."""
    reached = None
    for index, tier in enumerate(tiers, start=1):
        if turnover >= tier["threshold"]:
            reached = (index, tier)
    if reached is None:
        return f"0. below {fmt_amount(tiers[0]['threshold'])}", None
    index, tier = reached
    return f"{index}. from {fmt_amount(tier['threshold'])}: {fmt_percent(tier['percent'])}", tier[
        "percent"
    ]


def _active_on(rule: PricingRule, today: date) -> bool:
    return (rule.valid_from is None or rule.valid_from <= today) and (
        rule.valid_to is None or rule.valid_to >= today
    )


def refresh(session: Session, today: date | None = None) -> int:
    """Recompute every client's standing against every active turnover-tier rule valid
    ``today``; returns the number of rows written. One turnover query per rule."""
    today = today or local_today()
    kind = next(k for k in BUNDLED_KINDS if k.name == TURNOVER_TIERS)
    session.execute(delete(ClientTier), execution_options=ALL)
    rules = session.scalars(
        select(PricingRule)
        .where(PricingRule.active.is_(True), PricingRule.kind == TURNOVER_TIERS)
        .order_by(PricingRule.id),
        execution_options=ALL,
    )
    written = 0
    for rule in rules:
        if not _active_on(rule, today):
            continue
        try:
            params = stored_params(kind.schema, rule.params_json or "{}")
        except (ValidationError, ValueError):
            continue  # a rule its kind no longer accepts prices nothing, and counts nobody
        if not params.get("tiers"):
            continue
        clients = select(Client.id)
        scope: dict[str, Any] = {"client_ids": None}  # everyone's rule: one query, no id list
        if rule.client_id is not None:
            clients = clients.where(Client.id == rule.client_id)
            scope["client_ids"] = [rule.client_id]
        elif rule.customer_group_id is not None:
            clients = clients.where(Client.customer_group_id == rule.customer_group_id)
            scope["customer_group_id"] = rule.customer_group_id
        client_ids = list(session.scalars(clients, execution_options=ALL))
        period = basis_period(today, params["period"], params["basis"])
        groups = tuple(params["group_ids"]) or None
        figures = turnover_by_client(
            session, scope.pop("client_ids"), period.start, period.end, groups, **scope
        )
        rows = []
        for client_id in client_ids:
            amount = figures.get(client_id, 0)
            label, percent = tier_label(params["tiers"], amount)
            rows.append({"rule_id": rule.id, "client_id": client_id, "tier": label,
                         "percent": percent, "turnover": amount, "period": period.label,
                         "computed_on": today})  # fmt: skip
        if rows:
            session.execute(insert(ClientTier), rows, execution_options=ALL)
            written += len(rows)
    return written
