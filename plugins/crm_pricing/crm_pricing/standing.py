"""Where a client stands against a turnover-tier rule: what the last period earned, and how much
more this period reaches the next tier (earned for the next period). Pure: given the rule's
parameters (as the schema loaded them), a turnover lookup and today."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from crm_pricing.kinds import tier_of
from crm_pricing.money import fmt_amount, fmt_percent
from crm_pricing.periods import PERIOD_NOUNS, basis_period, calendar_period, next_period_label


@dataclass(frozen=True)
class Standing:
    basis_label: str
    basis_turnover: Decimal
    percent: Decimal | None  # what the basis period earns now (None: no tier reached)
    text: str


def tier_standing(
    params: Mapping[str, Any], turnover: Callable[..., Decimal], today: date
) -> Standing:
    tiers = params["tiers"]
    groups = tuple(params.get("group_ids") or ()) or None
    basis = basis_period(today, params["period"], params["basis"])
    amount = turnover(basis.start, basis.end, groups)
    tier, nxt = tier_of(tiers, amount)
    earns = fmt_percent(tier["percent"]) if tier else "no tier yet"
    now = f"{basis.label} turnover {fmt_amount(amount)} → {earns}"
    if params["basis"] != "last_completed":
        hint = (
            f"; {fmt_amount(nxt['threshold'] - amount)} more reaches {fmt_percent(nxt['percent'])}"
            if nxt else "; the highest tier"
        )  # fmt: skip
        return Standing(basis.label, amount, tier["percent"] if tier else None, now + hint)
    current = calendar_period(today, params["period"])
    so_far = turnover(current.start, min(today, current.end), groups)
    following = next_period_label(today, params["period"])
    noun = PERIOD_NOUNS[params["period"]]
    _, nxt = tier_of(tiers, so_far)
    if nxt is None:
        hint = (
            f"; this {noun} so far {fmt_amount(so_far)} already earns "
            f"{fmt_percent(tiers[-1]['percent'])} for {following}"
        )
    else:
        hint = (
            f"; {fmt_amount(nxt['threshold'] - so_far)} more this {noun} reaches "
            f"{fmt_percent(nxt['percent'])} for {following}"
        )
    return Standing(basis.label, amount, tier["percent"] if tier else None, now + hint)
