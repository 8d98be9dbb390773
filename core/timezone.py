"""The installation's time zone: times are stored in UTC and shown and typed in this zone.

``CRM_TIMEZONE`` (an IANA name such as ``Europe/Sofia``) sets it; UTC when unset.
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, has_app_context


def check_zone_name(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"CRM_TIMEZONE={name!r} is not a time zone name (e.g. Europe/Sofia, UTC)"
        ) from None
    return name


@functools.cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone_name() -> str:
    return current_app.config.get("TIMEZONE", "UTC") if has_app_context() else "UTC"


def local_zone() -> ZoneInfo:
    return _zone(zone_name())


def local_today() -> date:
    """Today in the installation's time zone: what "due today", "overdue" and "this year" mean."""
    return datetime.now(local_zone()).date()
