"""Property tests of the engine (hypothesis): whatever the rules, the price is never negative,
the percent discounts never go past the cap, the order rules are given in changes nothing, and a
client with more turnover never pays more under a tier rule."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from pricing_helpers import KINDS, Turnover, context, rule

from crm_pricing.engine import EXCLUSIVE, STACK, Memo, price, sort_rules
from crm_pricing.kinds import MEMO_KEYS
from crm_pricing.money import HUNDRED, round_price

percents = st.decimals(min_value=0, max_value=100, places=2)
amounts = st.decimals(min_value=0, max_value=100000, places=2)
modes = st.sampled_from((STACK, EXCLUSIVE))
priorities = st.integers(min_value=0, max_value=5)


@st.composite
def rules(draw, modes=modes):
    kind = draw(
        st.sampled_from(
            ("product_group_discount", "customer_group_discount", "early_payment", "fixed_price",
             "quantity_breaks", "turnover_tiers")
        )
    )  # fmt: skip
    common = {"mode": draw(modes), "priority": draw(priorities)}
    if kind == "fixed_price":
        return rule(kind, {"price": draw(amounts)}, **common)
    if kind == "early_payment":
        return rule(kind, {"days": draw(st.integers(0, 60)), "percent": draw(percents)}, **common)
    if kind in ("quantity_breaks", "turnover_tiers"):
        thresholds = sorted(draw(st.lists(amounts, min_size=1, max_size=3, unique=True)))
        rising = sorted(draw(st.lists(percents, min_size=len(thresholds), max_size=3)))
        tiers = [{"threshold": t, "percent": p} for t, p in zip(thresholds, rising, strict=False)]
        params = {"tiers": tiers}
        if kind == "turnover_tiers":
            params["period"] = draw(st.sampled_from(("month", "quarter", "half_year", "year")))
        return rule(kind, params, **common)
    return rule(kind, {"percent": draw(percents)}, **common)


class AnyTurnover(Turnover):
    def __init__(self, amount: Decimal) -> None:
        super().__init__()
        self.amount = amount

    def __call__(self, start, end, product_group_ids=None, *, quantity=False) -> Decimal:
        return self.amount


lines = st.fixed_dictionaries(
    {
        "list_price": st.decimals(min_value=0, max_value=10000, places=2),
        "quantity": st.integers(1, 1000),
        "payment_days": st.one_of(st.none(), st.integers(0, 90)),
    }
)
caps = st.one_of(st.none(), st.decimals(min_value=0, max_value=100, places=2))

SETTINGS = settings(max_examples=60, deadline=None)


@SETTINGS
@given(st.lists(rules(), max_size=6), lines, amounts, caps)
def test_never_negative_and_never_beyond_the_cap(rule_list, line, turnover, cap):
    result = price(context(**line, turnover=AnyTurnover(turnover)), rule_list, KINDS, cap=cap)
    assert result.unit_price >= 0
    if cap is not None:
        assert result.discount_percent <= cap
        floor = round_price(result.base_price * (1 - cap / HUNDRED), "BGN")
        assert result.unit_price >= floor


@SETTINGS
@given(st.lists(rules(), max_size=6), lines, amounts, caps, st.randoms(use_true_random=False))
def test_independent_of_the_order_rules_are_given_in(rule_list, line, turnover, cap, rnd):
    ctx = context(**line, turnover=AnyTurnover(turnover))
    first = price(ctx, rule_list, KINDS, cap=cap)
    shuffled = list(rule_list)
    rnd.shuffle(shuffled)
    again = price(ctx, shuffled, KINDS, cap=cap)
    assert again == first


@SETTINGS
@given(
    st.lists(amounts, min_size=1, max_size=4, unique=True),
    st.lists(percents, min_size=4, max_size=4),
    st.sampled_from(("month", "quarter", "half_year", "year")),
    st.sampled_from(("last_completed", "rolling")),
    amounts,
    amounts,
    st.lists(rules(modes=st.just(STACK)), max_size=3),
    modes,
)
def test_more_turnover_never_costs_more(
    thresholds, percent_list, period, basis, low, high, others, mode
):
    """With stacked rules, or alone when exclusive (an exclusive rule replaces the stacked
    discounts when it applies, even smaller ones: that is what exclusive means)."""
    low, high = sorted((low, high))
    tier_list = list(zip(sorted(thresholds), sorted(percent_list), strict=False))
    tier_rule = rule(
        "turnover_tiers",
        {"period": period, "basis": basis,
         "tiers": [{"threshold": t, "percent": p} for t, p in tier_list]},
        mode=mode,
    )  # fmt: skip
    rule_list = [tier_rule, *others] if mode == STACK else [tier_rule]
    cheap = price(context(turnover=AnyTurnover(high)), rule_list, KINDS)
    dear = price(context(turnover=AnyTurnover(low)), rule_list, KINDS)
    assert cheap.unit_price <= dear.unit_price


@SETTINGS
@given(
    st.lists(rules(), max_size=6),
    st.lists(st.tuples(lines, st.sampled_from(((4, 1), (9,), ()))), min_size=1, max_size=8),
    amounts,
    caps,
)
def test_a_run_memo_changes_no_price(rule_list, line_list, turnover, cap):
    """What a run reuses between lines (engine.Memo) gives the very results of pricing each line
    on its own."""
    ordered = sort_rules(rule_list)
    memo = Memo(MEMO_KEYS)
    for line, groups in line_list:
        ctx = context(**line, product_group_ids=groups, turnover=AnyTurnover(turnover))
        alone = price(ctx, rule_list, KINDS, cap=cap)
        assert price(ctx, ordered, KINDS, cap=cap, presorted=True, memo=memo) == alone
