"""What happens to competitors, presences and strategy changes, shared by the forms and the JSON
API so that both create and change them the same way, with the same refusals.

Every refusal is a marshmallow ``ValidationError`` naming the field: the API answers it with 400
(``{"errors": {...}}``), the forms show it under the field. Nothing is written before every check
has passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask import url_for
from marshmallow import ValidationError
from sqlalchemy import ColumnElement, and_, exists, func, or_, select

from core.db import db_session
from core.models import User
from core.notifications import notify
from core.timezone import local_today
from crm_competitors import groups as product_groups
from crm_competitors.models import (
    Change,
    ChangeGroup,
    Competitor,
    CompetitorGroup,
    Presence,
    PresenceGroup,
)
from crm_contacts.models import Client, Region

COMPETITOR_FIELDS = (
    "name", "website", "country", "price_position", "strengths", "weaknesses", "notes", "status",
)  # fmt: skip
PRESENCE_FIELDS = (
    "competitor_id", "client_id", "share_percent", "since", "until", "source", "notes",
)  # fmt: skip
CHANGE_FIELDS = ("kind", "occurred_on", "percent", "description", "source")


def _regions(ids: list[int], errors: dict[str, list[str]]) -> list[Region]:
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    found = {r.id: r for r in db_session.scalars(select(Region).where(Region.id.in_(wanted)))}
    unknown = [str(i) for i in wanted if i not in found]
    if unknown:
        errors["region_ids"] = [f"No such region: {', '.join(unknown)}."]
    return [found[i] for i in wanted if i in found]


def _groups(names: list[str], errors: dict[str, list[str]]) -> list[str]:
    resolved, messages = product_groups.resolve(names)
    if messages:
        errors["groups"] = messages
    return resolved


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


# --- competitors ---------------------------------------------------------------------------------


def _check_name(name: str, except_id: int | None) -> list[str]:
    taken = select(Competitor.id).where(func.lower(Competitor.name) == name.lower())
    if except_id is not None:
        taken = taken.where(Competitor.id != except_id)
    return [f"A competitor named “{name}” exists already."] if db_session.scalar(taken) else []


def save_competitor(competitor: Competitor | None, data: dict[str, Any]) -> Competitor:
    """Create (``competitor`` None) or change a competitor: the fields given in ``data``."""
    errors: dict[str, list[str]] = {}
    if "name" in data and (taken := _check_name(data["name"], getattr(competitor, "id", None))):
        errors["name"] = taken
    regions = _regions(data["region_ids"], errors) if "region_ids" in data else None
    names = _groups(data["groups"], errors) if "groups" in data else None
    _raise(errors)
    if competitor is None:
        competitor = Competitor()
        db_session.add(competitor)
    for key in COMPETITOR_FIELDS:
        if key in data:
            setattr(competitor, key, data[key])
    if regions is not None:
        competitor.regions = regions
    if names is not None:
        _replace_groups(competitor, CompetitorGroup, names)
    db_session.flush()
    return competitor


def _replace_groups(record: Any, row_class: type, names: list[str]) -> None:
    keep = {row.name: row for row in record.group_rows}
    record.group_rows = [keep.get(name) or row_class(name=name) for name in names]


# --- presences -----------------------------------------------------------------------------------


def visible_client(client_id: int | None) -> Client | None:
    """The client, if it exists and the current user may see it (a statement: rules apply)."""
    if client_id is None:
        return None
    return db_session.scalars(select(Client).where(Client.id == client_id)).one_or_none()


def current_presence(today: date | None = None) -> ColumnElement[bool]:
    """Presences that have not ended (no end, or an end today or later)."""
    return or_(Presence.until.is_(None), Presence.until >= (today or local_today()))


def save_presence(presence: Presence | None, data: dict[str, Any], user: Any) -> Presence:
    errors: dict[str, list[str]] = {}
    competitor_id = data.get("competitor_id", getattr(presence, "competitor_id", None))
    client_id = data.get("client_id", getattr(presence, "client_id", None))
    if "competitor_id" in data and db_session.get(Competitor, competitor_id) is None:
        errors["competitor_id"] = ["No such competitor."]
    if "client_id" in data and visible_client(client_id) is None:
        errors["client_id"] = ["No such client among those you may see."]
    since = data.get("since", getattr(presence, "since", None))
    until = data.get("until", getattr(presence, "until", None))
    if since and until and until < since:
        errors["until"] = [f"Must not be before the start (since: {since})."]
    names = _groups(data["groups"], errors) if "groups" in data else None
    _raise(errors)
    if presence is None:
        presence = Presence(recorded_by_id=getattr(user, "id", None))
        db_session.add(presence)
    for key in PRESENCE_FIELDS:
        if key in data:
            setattr(presence, key, data[key])
    if names is not None:
        _replace_groups(presence, PresenceGroup, names)
    db_session.flush()
    return presence


# --- strategy changes and who they concern -------------------------------------------------------


def record_change(competitor: Competitor, data: dict[str, Any], user: Any) -> Change:
    errors: dict[str, list[str]] = {}
    regions = _regions(data.get("region_ids", []), errors)
    names = _groups(data.get("groups", []), errors)
    _raise(errors)
    change = Change(
        competitor_id=competitor.id,
        recorded_by_id=getattr(user, "id", None),
        **{k: data[k] for k in CHANGE_FIELDS if k in data},
    )
    change.regions = regions
    change.group_rows = [ChangeGroup(name=n) for n in names]
    db_session.add(change)
    db_session.flush()
    return change


def concerned(change: Change, today: date | None = None) -> ColumnElement[bool]:
    """The current presences a change concerns: of its competitor, at clients in its regions, in
    its product groups. A change naming no region concerns every region; one naming no group,
    every group; a presence naming no group is taken to cover them all."""
    region_ids = [r.id for r in change.regions]
    names = change.groups
    conditions = [Presence.competitor_id == change.competitor_id, current_presence(today)]
    if region_ids:
        conditions.append(Client.region_id.in_(region_ids))
    if names:
        conditions.append(
            or_(
                ~exists().where(PresenceGroup.presence_id == Presence.id),
                exists().where(
                    PresenceGroup.presence_id == Presence.id,
                    func.lower(PresenceGroup.name).in_([n.lower() for n in names]),
                ),
            )  # fmt: skip
        )
    return and_(*conditions)


@dataclass(frozen=True)
class Affected:
    presence_id: int
    client_id: int
    client_name: str
    region: str
    groups: list[str]
    share_percent: Decimal | None
    representative_id: int | None
    representative: str


AFFECTED_SHOWN = 200


def affected(change: Change, *, limit: int = AFFECTED_SHOWN) -> tuple[list[Affected], int]:
    """The clients (that the current user may see) where the change's competitor is present in
    its regions and product groups, with their representatives: ``(the first rows, how many)``.
    Three statements whatever the numbers."""
    condition = concerned(change)
    base = select(Presence.id).join(Client, Client.id == Presence.client_id).where(condition)
    total = db_session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = db_session.execute(
        select(
            Presence.id, Client.id, Client.name, Region.name, Presence.share_percent,
            User.id, User.name,
        )
        .join(Client, Client.id == Presence.client_id)
        .outerjoin(Region, Region.id == Client.region_id)
        .outerjoin(User, User.id == Client.responsible_id)
        .where(condition)
        .order_by(Region.name, Client.name, Presence.id)
        .limit(limit)
    ).all()  # fmt: skip
    by_presence: dict[int, list[str]] = {}
    for presence_id, name in db_session.execute(
        select(PresenceGroup.presence_id, PresenceGroup.name)
        .where(PresenceGroup.presence_id.in_([r[0] for r in rows]))
        .order_by(PresenceGroup.name)
    ):
        by_presence.setdefault(presence_id, []).append(name)
    return [
        Affected(p, c, cname, region or "", by_presence.get(p, []), share, uid, uname or "")
        for p, c, cname, region, share, uid, uname in rows
    ], total


def notify_representatives(change: Change) -> int:
    """One notification to each representative of a client the change concerns, linking to the
    change; nobody else. Read over every client (not only those the recorder may see): a
    representative recording a move tells colleagues whose clients it touches, without learning
    who they are. Returns how many were notified."""
    counts = db_session.execute(
        select(Client.responsible_id, func.count(func.distinct(Client.id)))
        .select_from(Presence)
        .join(Client, Client.id == Presence.client_id)
        .where(concerned(change), Client.responsible_id.is_not(None))
        .group_by(Client.responsible_id)
        .execution_options(crm_all_records=True)
    ).all()
    competitor = change.competitor
    where = ", ".join(r.name for r in change.regions) or "every region"
    what = f" ({', '.join(change.groups)})" if change.groups else ""
    url = url_for("crm_competitors.change_detail", change_id=change.id)
    for user_id, clients in counts:
        notify(
            db_session,
            user_id,
            f"{competitor.name}: {change.headline} in {where}{what} on {change.occurred_on} — "
            f"present at {clients} of your client{'s' if clients != 1 else ''}.",
            url,
        )
    return len(counts)
