"""Helpers the pages share: the task of a URL, today's date, the list filters from the query
string, the choices of the forms."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort, request
from marshmallow import ValidationError
from sqlalchemy import select

from core.db import db_session
from core.inputs import date_problem
from crm_contacts.models import Client, Contact, Person
from crm_contacts.search import search_condition, search_order
from crm_tasks import workflow
from crm_tasks.models import Task
from crm_tasks.service import Filters, active_types, assignable_users

PER_PAGE = 25


def task_or_404(task_id: int) -> Task:
    # Through the request session: a task hidden by a record rule is as absent as a missing one.
    return db_session.get(Task, task_id) or abort(404)


def int_arg(name: str) -> int | None:
    # A whole number that fits an INTEGER column (core/inputs.py), else None.
    value = request.args.get(name, type=int)
    return value if value is not None and value >= 0 else None


def date_arg(name: str) -> date | None:
    # A day the database and the local-day arithmetic can hold (core.inputs), else None.
    try:
        day = date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None
    return None if date_problem(day) else day


def filters_from_args(view: str) -> Filters:
    status = request.args.get("status", "open")
    if status not in ("open", "closed", "any", *workflow.STATUSES):
        status = "open"
    due = request.args.get("due", "")
    return Filters(
        view=view,
        commitment_type_id=int_arg("commitment_type_id"),
        client_id=int_arg("client_id"),
        assigned_to_id=int_arg("assigned_to_id"),
        status=status,
        due=due if due in ("overdue", "today", "week") else "",
        due_from=date_arg("due_from"),
        due_to=date_arg("due_to"),
        no_type=request.args.get("commitment_type_id") == "none",
        unassigned=request.args.get("assigned_to_id") == "none",
        created_before=date_arg("created_before"),
        completed_from=date_arg("completed_from"),
        completed_to=date_arg("completed_to"),
    )


def filter_context(filters: Filters) -> dict[str, Any]:
    """What the filter form of the lists and the board shows (_task_macros.filter_form)."""
    return {
        "filters": filters,
        "filter_client": db_session.get(Client, filters.client_id) if filters.client_id else None,
        "types": active_types(db_session),
        "users": assignable_users(db_session),
        "statuses": workflow.STATUSES,
    }


def form_errors(error: ValidationError) -> dict[str, list[str]]:
    messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
    out: dict[str, list[str]] = {}
    for name, value in messages.items():
        out[name] = [str(m) for m in value] if isinstance(value, list) else [str(value)]
    return out


def visible_clients(query: str = "", limit: int = 500) -> list[Client]:
    """The clients a form offers: those the user may see (record rules), by name; with a query,
    those whose name, VAT number, city, phone or contact person matches it."""
    stmt = select(Client).limit(limit)
    if query.strip():
        # The index's matches, then sorted (search_order): not a walk of the name index.
        stmt = stmt.where(search_condition(query)).order_by(*search_order(query))
    stmt = stmt.order_by(Client.name, Client.id)
    return list(db_session.scalars(stmt))


def persons_and_contacts(client_id: int | None) -> tuple[list[Person], list[Contact]]:
    if client_id is None:
        return [], []
    persons = db_session.scalars(
        select(Person).where(Person.client_id == client_id).order_by(Person.name, Person.id)
    ).all()
    contacts = db_session.scalars(
        select(Contact)
        .where(Contact.client_id == client_id)
        .order_by(Contact.starts_at.desc(), Contact.id.desc())
        .limit(30)
    ).all()
    return list(persons), list(contacts)


def form_payload(names: tuple[str, ...]) -> dict[str, Any]:
    return {name: request.form.get(name, "").strip() for name in names if name in request.form}
