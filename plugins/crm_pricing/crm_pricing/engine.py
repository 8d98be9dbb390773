"""The pricing engine: combines the rules that concern one line into one price, and says why.

Pure: it is given the pricing context, the rules (already loaded, their parameters validated) and
the kinds, and touches no database; ``crm_pricing.service`` loads those once per quote or price
list. The combination, deterministic whatever the order rules were created or given in:

1. Rules are considered in order of ``priority`` (a smaller number first), then name, then id.
2. A rule is skipped, with the reason, when its kind is not available, it is not valid on the
   date, the product is not among its products, or its kind says it does not apply (a threshold
   missed: by how much). A kind that fails or answers nonsense (a percent outside 0–100, a
   negative price) is skipped too: a conflict or a bug never blocks a quote.
3. **Base price**: the list price, unless a rule sets a base price (a fixed client price, a
   contract price): the first such rule in order sets it, later ones are superseded.
4. **Discounts** apply to the base price. If an *exclusive* rule gives a discount, the first one
   in order is the only discount; every other discount is shown as excluded by it. Otherwise
   every *stack* discount applies, each percent to the running price, in order (compounded).
5. **Cap**: when the compounded discount exceeds the cap (the customer group's, else the
   installation's), the price is the base price less the cap.
6. The unit price is rounded once, half up, to the currency's minor unit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from core.pricing import Adjustment, PricingContext, PricingRuleKind
from crm_pricing.money import HUNDRED, ZERO, fmt_amount, fmt_percent, round_percent, round_price

log = logging.getLogger(__name__)

STACK = "stack"
EXCLUSIVE = "exclusive"
MODES = (STACK, EXCLUSIVE)


@dataclass(frozen=True)
class Rule:
    """A rule as the engine sees it. ``id`` is None for an automatic kind's implicit rule."""

    id: int | None
    name: str
    kind: str
    params: Mapping[str, Any]
    mode: str = STACK
    priority: int = 100
    product_id: int | None = None
    product_group_id: int | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    #: Who and what the rule is for, as people read it ("product group Paper"): for the reasons.
    products_label: str = ""
    #: Why the rule cannot be used at all (its stored parameters no longer fit its kind).
    error: str | None = None

    @property
    def sort_key(self) -> tuple:
        return (self.priority, self.name, self.kind, self.id or 0)


@dataclass(frozen=True, slots=True)
class Applied:
    rule_id: int | None
    rule: str
    kind: str
    reason: str
    percent: Decimal | None
    base_price: Decimal | None
    price_after: Decimal


@dataclass(frozen=True, slots=True)
class NotApplied:
    rule_id: int | None
    rule: str
    kind: str
    reason: str


@dataclass
class PriceResult:
    list_price: Decimal
    base_price: Decimal
    unit_price: Decimal
    #: The compounded discount of the percent rules, off the base price (at most the cap).
    discount_percent: Decimal
    #: The unit price against the list price, fixed prices included.
    total_discount_percent: Decimal
    currency: str
    quantity: Decimal
    cap_percent: Decimal | None
    applied: list[Applied] = field(default_factory=list)
    not_applied: list[NotApplied] = field(default_factory=list)

    @property
    def line_total(self) -> Decimal:
        return round_price(self.unit_price * self.quantity, self.currency)


def sort_rules(rules: Iterable[Rule]) -> list[Rule]:
    return sorted(rules, key=lambda r: r.sort_key)


def validity(rule: Any, on: date) -> str | None:
    """Why ``rule`` (anything with ``valid_from`` and ``valid_to``) is not valid on ``on``."""
    if rule.valid_from and on < rule.valid_from:
        return f"valid from {rule.valid_from.isoformat()}"
    if rule.valid_to and on > rule.valid_to:
        return f"expired on {rule.valid_to.isoformat()}"
    return None


def _products(rule: Rule, context: PricingContext) -> str | None:
    if rule.product_id is not None and rule.product_id != context.product_id:
        return f"only for {rule.products_label or f'product {rule.product_id}'}"
    if rule.product_group_id is not None and rule.product_group_id not in context.product_group_ids:
        return f"only for {rule.products_label or f'product group {rule.product_group_id}'}"
    return None


class Memo:
    """Outcomes of rules computed once per run (one client, one date) and reused for every line
    whose context gives the same key: ``keys`` maps a kind name to what it reads of the context
    besides the client and the date (the bundled kinds declare theirs; other modules' kinds are
    evaluated for every line, since nobody knows what they read)."""

    def __init__(self, keys: Mapping[str, Callable[[PricingContext], Any]]) -> None:
        self.keys = keys
        self.outcomes: dict[tuple, Adjustment | NotApplied] = {}
        self.params: dict[int, dict[str, Any]] = {}
        self.skips: dict[tuple, NotApplied] = {}
        self.lines: dict[tuple, list] = {}
        self._rules: Any = None
        self._named: frozenset[int] = frozenset()

    def line_key(self, ordered: Any, context: PricingContext) -> tuple:
        """What the rules with a memo key decide for a line depends only on these: the lines
        that share them (a price list's products of one group) share one pass over the rules;
        rules of kinds without a key are still asked for every line."""
        if ordered is not self._rules:  # another set of rules: nothing decided holds
            self._rules = ordered
            self.lines, self.outcomes, self.skips = {}, {}, {}
            self._named = frozenset(r.product_id for r in ordered if r.product_id is not None)
        return (
            context.client_id,
            context.on,
            context.product_group_ids,
            context.product_id if context.product_id in self._named else None,
            context.quantity,
            context.payment_days,
            context.currency,
        )


_MISSING = object()


def _params(rule: Rule, kind: PricingRuleKind, prepared: Mapping[str, Any]) -> dict[str, Any]:
    params = dict(rule.params)
    if kind.name in prepared:
        params["_prepared"] = prepared[kind.name]
    return params


def _evaluate(
    rule: Rule, kind: PricingRuleKind, context: PricingContext, params
) -> Adjustment | str:
    try:
        outcome = kind.evaluate(context, params)
    except Exception as exc:  # a kind's bug must not block a quote: explain it instead
        log.exception("pricing rule kind %s failed", kind.name)
        return f"the rule failed ({type(exc).__name__}); ignored"
    if isinstance(outcome, str):
        return outcome or "does not apply"
    if not isinstance(outcome, Adjustment):
        return "the kind gave no adjustment; ignored"
    percent, base = outcome.discount_percent, outcome.base_price
    if percent is None and base is None:
        return outcome.reason or "no change"
    if percent is not None and not (isinstance(percent, Decimal) and ZERO <= percent <= HUNDRED):
        return f"invalid discount {percent!r} (must be a Decimal from 0 to 100); ignored"
    if base is not None and not (isinstance(base, Decimal) and base >= ZERO):
        return f"invalid base price {base!r} (must be a Decimal of at least 0); ignored"
    return outcome


def _consider(
    context: PricingContext,
    ordered: Iterable[Rule],
    kinds: Mapping[str, PricingRuleKind],
    prepared: Mapping[str, Any],
    memo: Memo | None,
) -> list[tuple[Rule, Adjustment | NotApplied | None]]:
    """What every rule decides for this line, in order: a ``NotApplied`` with its reason, an
    ``Adjustment``, or (with a memo) ``None`` for a rule whose kind must be asked for every line
    (a kind without a memo key: other modules' kinds)."""
    entries: list[tuple[Rule, Adjustment | NotApplied | None]] = []

    def skip(rule: Rule, reason: str) -> None:
        entries.append((rule, NotApplied(rule.id, rule.name, rule.kind, reason)))

    for rule in ordered:
        kind = kinds.get(rule.kind)
        if kind is None:
            skip(rule, f"its kind {rule.kind} is not available (is its module installed?)")
            continue
        if rule.error:
            skip(rule, rule.error)
            continue
        reason = validity(rule, context.on) or _products(rule, context)
        if reason:
            skip(rule, reason)
            continue
        if memo is None:
            outcome = _evaluate(rule, kind, context, _params(rule, kind, prepared))
        else:
            params = memo.params.get(id(rule))
            if params is None:
                params = memo.params[id(rule)] = _params(rule, kind, prepared)
            key_of = memo.keys.get(rule.kind)
            if key_of is None:
                entries.append((rule, None))
                continue
            key = (id(rule), context.client_id, context.on, key_of(context))
            outcome = memo.outcomes.get(key, _MISSING)
            if outcome is _MISSING:
                outcome = _evaluate(rule, kind, context, params)
                if isinstance(outcome, str):
                    outcome = NotApplied(rule.id, rule.name, rule.kind, outcome)
                memo.outcomes[key] = outcome
        if isinstance(outcome, str):
            skip(rule, outcome)
        else:
            entries.append((rule, outcome))
    return entries


def price(
    context: PricingContext,
    rules: Iterable[Rule],
    kinds: Mapping[str, PricingRuleKind],
    *,
    cap: Decimal | None = None,
    prepared: Mapping[str, Any] | None = None,
    presorted: bool = False,
    memo: Memo | None = None,
) -> PriceResult:
    """Price one line. ``rules`` may come in any order (``presorted`` skips sorting them);
    ``prepared`` maps kind names to what their ``prepare`` returned for this run; ``memo``
    (one per run) reuses what cannot differ between lines."""
    prepared = prepared or {}
    ordered = rules if presorted else sort_rules(rules)
    not_applied: list[NotApplied] = []
    bases: list[tuple[Rule, Adjustment]] = []
    discounts: list[tuple[Rule, Adjustment]] = []

    def skip(rule: Rule, reason: str) -> None:
        if memo is None:
            not_applied.append(NotApplied(rule.id, rule.name, rule.kind, reason))
            return
        key = (id(rule), reason)
        item = memo.skips.get(key)
        if item is None:
            item = memo.skips[key] = NotApplied(rule.id, rule.name, rule.kind, reason)
        not_applied.append(item)

    if memo is None:
        entries = _consider(context, ordered, kinds, prepared, None)
    else:
        line_key = memo.line_key(ordered, context)
        entries = memo.lines.get(line_key)
        if entries is None:
            entries = memo.lines[line_key] = _consider(context, ordered, kinds, prepared, memo)
    for rule, outcome in entries:
        if outcome is None:  # asked for every line
            outcome = _evaluate(rule, kinds[rule.kind], context, memo.params[id(rule)])
            if isinstance(outcome, str):
                skip(rule, outcome)
                continue
        if isinstance(outcome, NotApplied):
            not_applied.append(outcome)
            continue
        if outcome.base_price is not None:
            bases.append((rule, outcome))
        if outcome.discount_percent is not None:
            discounts.append((rule, outcome))

    applied: list[Applied] = []
    currency = context.currency
    base = context.list_price
    if bases:
        rule, adjustment = bases[0]
        base = adjustment.base_price
        applied.append(Applied(rule.id, rule.name, rule.kind, adjustment.reason, None, base, base))
        for other, _ in bases[1:]:
            skip(other, f"superseded by the base price of “{rule.name}”")

    exclusive = None
    for candidate in discounts:
        if candidate[0].mode == EXCLUSIVE:
            exclusive = candidate
            break
    if exclusive is not None:
        winner = exclusive[0]
        chosen = [exclusive]
        for other, _ in discounts:
            if other is winner:
                continue
            skip(other, f"excluded: the exclusive rule “{winner.name}” applies")
    else:
        chosen = discounts

    running = base
    factor = Decimal(1)
    for rule, adjustment in chosen:
        percent = adjustment.discount_percent
        factor *= 1 - percent / HUNDRED
        running = base * factor
        reason = adjustment.reason
        if rule.mode == EXCLUSIVE:
            reason = f"{reason} (exclusive)"
        applied.append(Applied(rule.id, rule.name, rule.kind, reason, percent, None, running))

    discount = (1 - factor) * HUNDRED
    if cap is not None and discount > cap:
        discount = cap
        running = base * (1 - cap / HUNDRED)
        applied.append(
            Applied(
                None,
                "Discount cap",
                "crm_pricing.cap",
                f"total discount {fmt_percent((1 - factor) * HUNDRED)} limited to the cap of "
                f"{fmt_percent(cap)}",
                None,
                None,
                running,
            )
        )

    unit = round_price(running, currency)
    list_price = context.list_price
    total = (1 - running / list_price) * HUNDRED if list_price > 0 else ZERO
    return PriceResult(
        list_price=list_price,
        base_price=base,
        unit_price=unit,
        discount_percent=round_percent(discount),
        total_discount_percent=round_percent(total),
        currency=currency,
        quantity=context.quantity,
        cap_percent=cap,
        applied=applied,
        not_applied=not_applied,
    )


def explain(result: PriceResult) -> list[str]:
    """The explanation as lines people read: what applied, then what did not and why."""
    lines = [f"list price {fmt_amount(result.list_price)} {result.currency}"]
    for step in result.applied:
        lines.append(f"{step.rule}: {step.reason} → {fmt_amount(step.price_after)}")
    for skipped in result.not_applied:
        lines.append(f"{skipped.rule}: not applied, {skipped.reason}")
    lines.append(f"unit price {fmt_amount(result.unit_price)} {result.currency}")
    return lines
