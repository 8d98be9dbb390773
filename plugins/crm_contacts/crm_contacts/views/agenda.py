"""My agenda (today's and this week's scheduled contacts of the current user) and the iCalendar
feed of it that phones subscribe to."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from core.auth import has_permission, user_groups
from core.db import db_session
from core.models import User
from core.permissions import PUBLIC, permission_required
from core.record_rules import RuleUser, activate
from core.state import current_state
from core.timezone import local_today, zone_name
from crm_contacts import agenda
from crm_contacts.blueprints import bp
from crm_contacts.models import CalendarFeed, Contact
from crm_contacts.permissions import READ

_SECRET = re.compile(r"[A-Za-z0-9_-]{20,64}")


def _feed_urls(feed: CalendarFeed) -> tuple[str, str]:
    """The feed's address, and the same with the webcal scheme that phones open as a
    subscription."""
    url = url_for("crm_contacts.calendar_feed", secret=feed.secret, _external=True)
    return url, "webcal://" + url.split("://", 1)[1]


@bp.route("/agenda", endpoint="agenda")
@permission_required(READ)
def my_agenda():
    """Today's and this week's scheduled contacts of the current user, overdue ones first."""
    feed = agenda.feed_of(db_session, current_user.id)
    today = local_today()
    _monday, sunday = agenda.week_of(today)
    start, end = agenda.agenda_range(today, sunday)
    overdue, overdue_total = agenda.overdue(db_session, current_user.id, start)
    week = agenda.scheduled_between(db_session, current_user.id, start, end)
    tomorrow = agenda.day_start(today + timedelta(days=1))
    todays = [c for c in week if agenda.aware(c.starts_at) < tomorrow]
    later: dict[Any, list[Contact]] = {}
    for contact in week[len(todays) :]:
        later.setdefault(agenda.to_local(contact.starts_at).date(), []).append(contact)
    feed_url, webcal_url = _feed_urls(feed)
    return render_template(
        "crm_contacts/agenda.html",
        today=today,
        sunday=sunday,
        now=agenda.now(),
        overdue=overdue,
        overdue_total=overdue_total,
        todays=todays,
        later=later,
        feed_url=feed_url,
        webcal_url=webcal_url,
        zone=zone_name(),
    )


@bp.route("/agenda/calendar/regenerate", methods=["GET", "POST"])
@permission_required(READ)
def calendar_regenerate():
    """A new secret address for the calendar feed; the old one stops working (a lost phone)."""
    if request.method == "GET":
        return render_template("crm_contacts/agenda_regenerate.html")
    agenda.regenerate(db_session, current_user.id)
    flash(
        "Your calendar has a new address; the old one no longer works. "
        "Subscribe again on your devices with the address below.",
        "success",
    )
    return redirect(url_for("crm_contacts.agenda"))


@bp.route("/calendar/<secret>.ics")
# Public: calendar apps on phones subscribe to a URL and cannot log in, so the unguessable secret
# in the URL is the credential (and regenerating it is how it is revoked).
@permission_required(PUBLIC)
def calendar_feed(secret: str):
    if not _SECRET.fullmatch(secret):
        abort(404)
    feed = db_session.scalar(select(CalendarFeed).where(CalendarFeed.secret == secret))
    owner = db_session.get(User, feed.user_id) if feed is not None else None
    if owner is None or not owner.active or not has_permission(READ, owner):
        abort(404)
    # A public route runs without a user, so no record rule is active. The feed shows its owner's
    # contacts as the owner would see them: their own contacts only (agenda.feed_contacts), and
    # the owner's record rules switched on for the rest of this request, so that a representative
    # does not see contacts at clients that are no longer theirs.
    activate(current_state().enabled_record_rules, RuleUser(owner.id, user_groups(owner)))
    at = agenda.now()
    contacts = agenda.feed_contacts(db_session, owner.id, at)
    body = agenda.calendar(contacts, owner.name, request.host, at)
    response = Response(body, mimetype="text/calendar")
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response
