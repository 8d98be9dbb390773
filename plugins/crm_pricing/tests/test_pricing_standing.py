"""Where a client stands against a turnover-tier rule (the client file's hint), and the periods
behind it: pure functions, given turnover figures by hand."""

from __future__ import annotations

from datetime import date

import pytest
from pricing_helpers import KINDS, Turnover

from crm_pricing.kinds import TURNOVER_TIERS
from crm_pricing.periods import basis_period, calendar_period, next_period_label
from crm_pricing.standing import tier_standing

TIERS = [{"threshold": 50000, "percent": 3}, {"threshold": 100000, "percent": 5}]
ON = date(2026, 11, 26)


def params(**extra):
    return KINDS[TURNOVER_TIERS].schema().load({"period": "quarter", "tiers": TIERS, **extra})


def test_the_last_quarter_earns_and_this_quarter_so_far_leads_to_the_next():
    turnover = Turnover({
        (date(2026, 7, 1), date(2026, 9, 30), None, False): 61200,
        (date(2026, 10, 1), date(2026, 11, 26), None, False): 61200,
    })  # fmt: skip
    standing = tier_standing(params(), turnover, ON)
    assert standing.percent == 3
    assert standing.text == (
        "Q3 2026 turnover 61,200.00 → 3 %; 38,800.00 more this quarter reaches 5 % for Q1 2027"
    )


def test_no_tier_yet_and_the_top_tier_already_earned():
    turnover = Turnover({(date(2026, 10, 1), date(2026, 11, 26), None, False): 120000})
    standing = tier_standing(params(), turnover, ON)
    assert standing.percent is None
    assert standing.text == (
        "Q3 2026 turnover 0.00 → no tier yet; this quarter so far 120,000.00 already earns 5 % "
        "for Q1 2027"
    )


def test_a_rolling_window_tells_what_more_reaches_the_next_tier():
    turnover = Turnover({(date(2025, 11, 26), date(2026, 11, 25), (4,), False): 70000})
    standing = tier_standing(params(period="year", basis="rolling", group_ids=[4]), turnover, ON)
    assert standing.text == (
        "the 12 months to 25 Nov 2026 turnover 70,000.00 → 3 %; 30,000.00 more reaches 5 %"
    )


@pytest.mark.parametrize(
    ("day", "period", "start", "end", "label"),
    [
        (date(2026, 11, 26), "month", date(2026, 11, 1), date(2026, 11, 30), "November 2026"),
        (date(2026, 2, 10), "month", date(2026, 2, 1), date(2026, 2, 28), "February 2026"),
        (date(2028, 2, 10), "month", date(2028, 2, 1), date(2028, 2, 29), "February 2028"),
        (date(2026, 11, 26), "quarter", date(2026, 10, 1), date(2026, 12, 31), "Q4 2026"),
        (date(2026, 6, 30), "half_year", date(2026, 1, 1), date(2026, 6, 30), "H1 2026"),
        (date(2026, 7, 1), "half_year", date(2026, 7, 1), date(2026, 12, 31), "H2 2026"),
        (date(2026, 1, 1), "year", date(2026, 1, 1), date(2026, 12, 31), "2026"),
    ],
)
def test_calendar_periods(day, period, start, end, label):
    found = calendar_period(day, period)
    assert (found.start, found.end, found.label) == (start, end, label)


def test_the_issue_example_on_26_november_2026():
    labels = {p: basis_period(ON, p, "last_completed").label
              for p in ("month", "quarter", "half_year", "year")}  # fmt: skip
    assert labels == {"month": "October 2026", "quarter": "Q3 2026", "half_year": "H1 2026",
                      "year": "2025"}  # fmt: skip
    assert next_period_label(ON, "quarter") == "Q1 2027"
    assert next_period_label(date(2026, 12, 31), "year") == "2027"
