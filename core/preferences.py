"""Per-user preferences: what a page remembers of a user's choices (the columns of a list).

- ``get_preference(session, user_id, key, default=None)``: the stored value, or ``default``; one
  query by primary key.
- ``set_preference(session, user_id, key, value)``: stores ``value`` (anything JSON can hold) in
  ``session``; the caller commits.

Keys are prefixed with the module that owns them (``crm_contacts.client_columns``). A value is
whatever the page stored; the page checks it again when it reads it back (a column of a module
uninstalled since is simply left out), so a stale preference never breaks a page.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from core.models import UserPreference


def get_preference(session: Session, user_id: int, key: str, default: Any = None) -> Any:
    row = session.get(UserPreference, (user_id, key))
    if row is None:
        return default
    try:
        return json.loads(row.value)
    except ValueError:  # written by hand in the database: as if never chosen
        return default


def set_preference(session: Session, user_id: int, key: str, value: Any) -> None:
    text = json.dumps(value, separators=(",", ":"))
    row = session.get(UserPreference, (user_id, key))
    if row is None:
        session.add(UserPreference(user_id=user_id, key=key, value=text))
    else:
        row.value = text
