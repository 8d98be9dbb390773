"""The installation currency: what turnover is counted in.

The core has no such setting yet, so the module reads ``CURRENCY`` from the application's
configuration, else the environment variable ``CRM_CURRENCY``, else ``EUR``.
"""

from __future__ import annotations

import os
from decimal import ROUND_HALF_UP, Decimal

from flask import current_app, has_app_context

CENT = Decimal("0.01")


def installation_currency() -> str:
    configured = current_app.config.get("CURRENCY") if has_app_context() else None
    if configured:
        return str(configured).upper()
    return (os.environ.get("CRM_CURRENCY") or "EUR").upper()


def money(value: Decimal) -> Decimal:
    """Round half up to the cent."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def cents(value: Decimal) -> int:
    """Whole cents, rounded half up."""
    return int((value * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def from_cents(value: int | None) -> Decimal:
    """Whole cents as an amount with two decimals (exact: the exponent becomes -2)."""
    return Decimal(int(value or 0)) * CENT
