"""Today's date where the installation is (``CRM_TIMEZONE``), not the server's or the database's."""

from __future__ import annotations

from datetime import date, datetime

from core.timezone import local_zone


def local_today() -> date:
    return datetime.now(local_zone()).date()
