"""The small forms of the client file: a new, edit and delete form for each kind of record the
client holds (``client_parts``: addresses, phones, emails, contact persons, bank accounts), each
reached from the file and returning to it.

The client is the unit of locking: its addresses, phones... have no version of their own, so their
edit and delete forms carry the client's version, and every change to them moves that version on.
Two people changing the same client at once are told so, instead of the later save silently
undoing the earlier one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import select

from core.db import db_session
from core.locking import check_version
from core.permissions import permission_required
from crm_contacts.blueprints import bp
from crm_contacts.models import ADDRESS_KINDS, EMAIL_KINDS, PHONE_KINDS, Client, Person
from crm_contacts.permissions import WRITE
from crm_contacts.sections import label, persons_in_order
from crm_contacts.views.client_file import load_client


@dataclass(frozen=True)
class Part:
    """One kind of record the client owns, as the forms handle it."""

    name: str  # the template (<name>_form.html) and the endpoints (<name>_new, ...)
    id_arg: str  # the record's id in the URLs of its edit and delete forms
    url: str  # the records' part of the URLs: /clients/<id>/<url>/new, /<url>/<id>/edit
    noun: str  # what a person calls one, in messages and titles
    model: type
    collection: str  # the client's attribute that holds them
    section: str  # the section of the file the forms return to
    fields: tuple[str, ...]  # what the form posts
    load: Callable[[dict[str, str], Client], dict[str, Any]]  # ValidationError per form field
    apply: Callable[[Any, dict[str, Any], Client], None]
    defaults: Callable[[Client], dict[str, Any]]
    values: Callable[[Any], dict[str, Any]]  # the form's values for an existing record
    describe: Callable[[Any], str]  # the record in the confirmation before deleting it
    # Deleting one, when it takes more than deleting the record (a person's phones and emails).
    remove: Callable[[Any, Client], None] | None = None


def _posted(names: Iterable[str]) -> dict[str, str]:
    """The form's fields, stripped. An unchecked box is not posted, so its schema default
    (false) applies."""
    return {name: request.form.get(name, "").strip() for name in names if name in request.form}


def _back(client: Client, part: Part, record: Any = None) -> str:
    """The file, at the section that shows the record: a contact person's phones and emails are
    shown with the person."""
    section = "crm_contacts.persons" if getattr(record, "person", None) else part.section
    return url_for("crm_contacts.client_file", client_id=client.id, _anchor=f"section-{section}")


def _changed(client: Client) -> None:
    """Move the client's version on: it is the version its children's forms are checked
    against (they have none of their own)."""
    client.version = client.version + 1


def _form(
    part: Part, client: Client, record: Any, values: dict[str, Any], errors: dict, status: int = 200
):
    return render_template(
        f"crm_contacts/{part.name}_form.html",
        part=part,
        client=client,
        record=record,
        values=values,
        errors=errors,
        back=_back(client, part, record),
        delete_url=url_for(f"crm_contacts.{part.name}_delete", **{part.id_arg: record.id})
        if record is not None
        else None,
        person_options=[
            (str(p.id), f"{p.name} — {p.position}" if p.position else p.name)
            for p in persons_in_order(client)
        ],
        address_kinds=[(k, label(k)) for k in ADDRESS_KINDS],
        phone_kinds=[(k, label(k)) for k in PHONE_KINDS],
        email_kinds=[(k, label(k)) for k in EMAIL_KINDS],
    ), status


def _child(part: Part, record_id: int) -> tuple[Client, Any]:
    """The record and its client, loaded through the client so that the client's record rules
    decide (a hidden client's phone is as hidden as the client)."""
    client_id = db_session.scalar(select(part.model.client_id).where(part.model.id == record_id))
    if client_id is None:
        abort(404)
    client = load_client(client_id)
    record = next((r for r in getattr(client, part.collection) if r.id == record_id), None)
    if record is None:
        abort(404)
    return client, record


def _save(part: Part, client: Client, record: Any):
    """Write what a new (``record`` None) or edit form posted, or show the form again with a
    message per field and nothing written."""
    raw = _posted(part.fields)
    try:
        data = part.load(raw, client)
    except ValidationError as error:
        values = raw if record is None else {**raw, "version": request.form.get("version", "")}
        return _form(part, client, record, values, error.messages_dict, 400)
    new = record is None
    if new:
        record = part.model()
    part.apply(record, data, client)
    if new:
        getattr(client, part.collection).append(record)
    _changed(client)
    db_session.commit()
    flash(f"{part.noun.capitalize()} {'added' if new else 'saved'}.", "success")
    return redirect(_back(client, part, record))


def _new(part: Part, client_id: int):
    client = load_client(client_id)
    if request.method == "GET":
        return _form(part, client, None, part.defaults(client), {})
    return _save(part, client, None)


def _edit(part: Part, record_id: int):
    client, record = _child(part, record_id)
    if request.method == "GET":
        return _form(part, client, record, {**part.values(record), "version": client.version}, {})
    # Before validating: input typed over a stale form is to be redone, not corrected.
    check_version(client, request.form.get("version"))
    return _save(part, client, record)


def _delete(part: Part, record_id: int):
    client, record = _child(part, record_id)
    back = _back(client, part, record)
    if request.method == "GET":
        return render_template(
            "crm_contacts/client_file_delete.html",
            part=part,
            client=client,
            what=part.describe(record),
            back=back,
        )
    check_version(client, request.form.get("version"))
    if part.remove is not None:
        part.remove(record, client)
    else:
        remove_record(record, client, part.collection)
    _changed(client)
    db_session.commit()
    flash(f"{part.noun.capitalize()} deleted.", "success")
    return redirect(back)


def routes(part: Part) -> None:
    """The part's new, edit and delete forms, under the endpoints and URLs the file links to
    (``crm_contacts.<name>_new``, ...), each a form for people allowed to write."""

    def new(client_id: int):
        return _new(part, client_id)

    def edit(**ids: int):
        return _edit(part, ids[part.id_arg])

    def delete(**ids: int):
        return _delete(part, ids[part.id_arg])

    item = f"/{part.url}/<int:{part.id_arg}>"
    for rule, action, view in (
        (f"/clients/<int:client_id>/{part.url}/new", "new", new),
        (f"{item}/edit", "edit", edit),
        (f"{item}/delete", "delete", delete),
    ):
        view.__name__ = f"{part.name}_{action}"
        bp.add_url_rule(rule, view_func=permission_required(WRITE)(view), methods=["GET", "POST"])


def remove_record(record: Any, client: Client, collection: str) -> None:
    """Delete a record, out of its owners' lists too: the client's search text is computed from
    those lists before the flush."""
    for owner in (client, getattr(record, "person", None)):
        if owner is not None and record in getattr(owner, collection):
            getattr(owner, collection).remove(record)
    db_session.delete(record)


def person_of(client: Client, value: str | None) -> Person | None:
    """The contact person a phone or email belongs to: none (the company's), or one of this
    client's persons."""
    if not value:
        return None
    person = next((p for p in client.persons if str(p.id) == value), None)
    if person is None:
        raise ValidationError("Choose one of this client's contact persons.")
    return person


def only(raw: dict[str, str], names: Iterable[str]) -> dict[str, str]:
    return {name: raw[name] for name in names if name in raw}


def apply_columns(record: Any, data: dict[str, Any], client: Client) -> None:
    for key, value in data.items():
        setattr(record, key, value)
