"""The client file: everything about a client on one screen, each installed module's sections
among the module's own. The small forms that edit what it shows are in ``client_forms`` and
``client_parts``."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from core.auth import has_permission
from core.db import db_session
from core.permissions import permission_required
from core.plugins import collect_parts
from core.record_rules import rules_per_row
from core.state import current_state
from crm_contacts.blueprints import bp
from crm_contacts.hookspecs import ClientFileSection
from crm_contacts.loading import CLIENT_LISTS, share_person_lists
from crm_contacts.models import Client
from crm_contacts.permissions import READ, WRITE
from crm_contacts.sections import client_history, label, primary_person
from crm_contacts.validation import format_phone

# Everything the file shows of the client itself: one query per collection, whatever its size.
FILE_OPTIONS = (
    *CLIENT_LISTS,
    joinedload(Client.customer_group),
    joinedload(Client.region),
    joinedload(Client.responsible),
)


def load_client(client_id: int) -> Client:
    """The client with everything its file shows, or 404 when it does not exist or a record rule
    hides it. A statement rather than ``session.get``, which would skip the record rules for a
    client already in the session."""
    client = db_session.scalars(
        select(Client).where(Client.id == client_id).options(*FILE_OPTIONS)
    ).one_or_none()
    if client is None:
        abort(404)
    return share_person_lists(client)


def file_sections(client: Client, user: Any) -> tuple[list[ClientFileSection], list[str]]:
    """The sections every installed module gives for the file, sorted, and the modules whose
    sections failed (logged and left out: one module's bug does not close the client file)."""
    return collect_parts(
        current_state().pm, "crm_client_file_sections", ClientFileSection, client=client, user=user
    )


@bp.route("/clients/<int:client_id>")
@permission_required(READ)
def client_file(client_id: int):
    # A few rows from each of many owned tables: each row's owner is looked up by its key, so a
    # representative's file costs what the client's rows cost, not what her 10,000 clients do.
    rules_per_row()
    client = load_client(client_id)
    sections, failed = file_sections(client, current_user._get_current_object())
    return render_template(
        "crm_contacts/client_file.html",
        client=client,
        sections=sections,
        failed=failed,
        primary=primary_person(client),
        history=client_history(client),
        can_write=has_permission(WRITE),
        label=label,
        format_phone=format_phone,
    )
