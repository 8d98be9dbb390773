"""The configurable lists under Settings: customer groups and contact types.

Both carry a version: an edit or a deletion made from a page opened before somebody else's change
is refused with the current values (``core.locking``).
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import func, insert, select, update

from core.db import db_session
from core.locking import check_version
from core.models import AuditEntry, utcnow
from core.permissions import permission_required
from crm_contacts.blueprints import bp
from crm_contacts.models import Client, Contact, ContactType, CustomerGroup
from crm_contacts.permissions import CONFIGURE


class CustomerGroupFormSchema(Schema):
    name = fields.String(
        required=True,
        validate=[
            validate.Length(min=1, error="Give the group a name."),
            validate.Length(max=100, error="At most 100 characters."),
        ],
    )


class ContactTypeFormSchema(Schema):
    code = fields.String(
        required=True,
        validate=[
            validate.Length(min=1, max=50, error="Between 1 and 50 characters."),
            validate.Regexp(
                r"^[a-z][a-z0-9_]*$",
                error="Lower-case letters, digits and _, starting with a letter (e.g. site_visit).",
            ),
        ],
    )
    name = fields.String(
        required=True,
        validate=[
            validate.Length(min=1, error="Give the type a name."),
            validate.Length(max=100, error="At most 100 characters."),
        ],
    )
    order = fields.Integer(
        load_default=100,
        validate=validate.Range(0, 10000, error="A number from 0 to 10000."),
        error_messages={"invalid": "A whole number."},
    )


def _posted(*names: str) -> dict[str, str]:
    data = {name: request.form.get(name, "").strip() for name in names}
    if "order" in data and not data["order"]:
        del data["order"]  # the default applies
    return data


# --- customer groups -----------------------------------------------------------------------------


def _groups_page(values: dict[str, Any] | None = None, errors: dict | None = None, status=200):
    counts = dict(
        db_session.execute(
            select(Client.customer_group_id, func.count())
            .where(Client.customer_group_id.is_not(None))
            .group_by(Client.customer_group_id)
        ).all()
    )
    groups = db_session.scalars(select(CustomerGroup).order_by(CustomerGroup.name)).all()
    return render_template(
        "crm_contacts/settings_customer_groups.html",
        rows=[(g, counts.get(g.id, 0)) for g in groups],
        values=values or {},
        errors=errors or {},
    ), status


def _group_name_taken(name: str, except_id: int | None = None) -> bool:
    stmt = select(CustomerGroup.id).where(func.lower(CustomerGroup.name) == name.lower())
    if except_id is not None:
        stmt = stmt.where(CustomerGroup.id != except_id)
    return db_session.scalar(stmt) is not None


def _load_group_name(except_id: int | None = None) -> tuple[dict[str, str], dict | None, str]:
    raw = _posted("name")
    try:
        data = CustomerGroupFormSchema().load(raw)
    except ValidationError as exc:
        return raw, exc.messages_dict, ""
    if _group_name_taken(data["name"], except_id):
        return raw, {"name": [f"A group named “{data['name']}” exists already."]}, ""
    return raw, None, data["name"]


@bp.route("/settings/customer-groups", methods=["GET", "POST"])
@permission_required(CONFIGURE)
def customer_groups():
    """The list, with the form that adds a group."""
    if request.method == "GET":
        return _groups_page()
    raw, errors, name = _load_group_name()
    if errors:
        return _groups_page(raw, errors, 400)
    db_session.add(CustomerGroup(name=name))
    db_session.commit()
    flash(f"Customer group “{name}” added.", "success")
    return redirect(url_for("crm_contacts.customer_groups"))


@bp.route("/settings/customer-groups/<int:group_id>/edit", methods=["GET", "POST"])
@permission_required(CONFIGURE)
def customer_group_edit(group_id: int):
    group = db_session.get(CustomerGroup, group_id) or abort(404)
    if request.method == "GET":
        return render_template(
            "crm_contacts/settings_customer_group_form.html",
            group=group,
            values={"name": group.name},
            errors={},
        )
    check_version(group)
    raw, errors, name = _load_group_name(except_id=group.id)
    if errors:
        return render_template(
            "crm_contacts/settings_customer_group_form.html", group=group, values=raw,
            errors=errors,
        ), 400  # fmt: skip
    old = group.name
    group.name = name
    db_session.commit()
    flash(f"Customer group “{old}” renamed to “{name}”.", "success")
    return redirect(url_for("crm_contacts.customer_groups"))


@bp.route("/settings/customer-groups/<int:group_id>/delete", methods=["GET", "POST"])
@permission_required(CONFIGURE)
def customer_group_delete(group_id: int):
    group = db_session.get(CustomerGroup, group_id) or abort(404)
    members = db_session.scalars(
        select(Client.id).where(Client.customer_group_id == group.id)
    ).all()
    if request.method == "GET":
        return render_template(
            "crm_contacts/settings_customer_group_delete.html", group=group, members=len(members)
        )
    check_version(group)
    if members:
        # One UPDATE for however many clients, recorded in each client's history as a form's
        # change would be, and with the version moved on, so that a form opened before on one of
        # these clients cannot put the deleted group back unnoticed.
        db_session.execute(
            update(Client)
            .where(Client.customer_group_id == group.id)
            .values(customer_group_id=None, version=Client.version + 1)
            .execution_options(synchronize_session=False)
        )
        now = utcnow()
        db_session.execute(
            insert(AuditEntry.__table__),
            [
                {"at": now, "user_id": current_user.id, "user_login": current_user.login,
                 "model": Client.__tablename__, "record_id": str(client_id), "action": "update",
                 "field": "customer_group_id", "old_value": str(group.id), "new_value": None}
                for client_id in members
            ],
        )  # fmt: skip
    name = group.name
    db_session.delete(group)
    db_session.commit()
    flash(
        f"Customer group “{name}” deleted"
        + (f"; its {len(members)} client(s) now have no group." if members else "."),
        "success",
    )
    return redirect(url_for("crm_contacts.customer_groups"))


# --- contact types -------------------------------------------------------------------------------


def _usage() -> dict[int, int]:
    return dict(
        db_session.execute(
            select(Contact.contact_type_id, func.count()).group_by(Contact.contact_type_id)
        ).all()
    )


def _types_page(values: dict[str, Any] | None = None, errors: dict | None = None, status=200):
    types = db_session.scalars(select(ContactType).order_by(ContactType.order, ContactType.name))
    usage = _usage()
    return render_template(
        "crm_contacts/settings_contact_types.html",
        rows=[(t, usage.get(t.id, 0)) for t in types],
        values=values or {"order": 100},
        errors=errors or {},
    ), status


@bp.route("/settings/contact-types", methods=["GET", "POST"])
@permission_required(CONFIGURE)
def contact_types():
    """The list, in the order forms offer them, with the form that adds a type."""
    if request.method == "GET":
        return _types_page()
    raw = _posted("code", "name", "order")
    try:
        data = ContactTypeFormSchema().load(raw)
    except ValidationError as exc:
        return _types_page(raw, exc.messages_dict, 400)
    if db_session.scalar(select(ContactType.id).where(ContactType.code == data["code"])):
        return _types_page(raw, {"code": [f"The code “{data['code']}” is taken."]}, 400)
    db_session.add(ContactType(**data))
    db_session.commit()
    flash(f"Contact type “{data['name']}” added.", "success")
    return redirect(url_for("crm_contacts.contact_types"))


@bp.route("/settings/contact-types/<int:type_id>/edit", methods=["GET", "POST"])
@permission_required(CONFIGURE)
def contact_type_edit(type_id: int):
    """Name and order; the code stays, since the JSON API and integrations refer to it."""
    kind = db_session.get(ContactType, type_id) or abort(404)
    if request.method == "GET":
        values = {"name": kind.name, "order": kind.order}
        return render_template(
            "crm_contacts/settings_contact_type_form.html", kind=kind, values=values, errors={}
        )
    check_version(kind)
    raw = _posted("name", "order")
    try:
        data = ContactTypeFormSchema(only=("name", "order")).load(raw)
    except ValidationError as exc:
        return render_template(
            "crm_contacts/settings_contact_type_form.html", kind=kind, values=raw,
            errors=exc.messages_dict,
        ), 400  # fmt: skip
    kind.name, kind.order = data["name"], data["order"]
    db_session.commit()
    flash(f"Contact type “{kind.name}” saved.", "success")
    return redirect(url_for("crm_contacts.contact_types"))


@bp.route("/settings/contact-types/<int:type_id>/delete", methods=["GET", "POST"])
@permission_required(CONFIGURE)
def contact_type_delete(type_id: int):
    kind = db_session.get(ContactType, type_id) or abort(404)
    used = _usage().get(kind.id, 0)
    refused = (
        f"{used} contact{' uses' if used == 1 else 's use'} the type “{kind.name}”: it cannot be "
        "deleted while the history refers to it. Rename it, or give it a high order to move it "
        "to the end of the list."
        if used
        else ""
    )
    if request.method == "GET" or refused:
        return render_template(
            "crm_contacts/settings_contact_type_delete.html", kind=kind, refused=refused
        ), (409 if refused and request.method == "POST" else 200)
    name = kind.name
    db_session.delete(kind)
    db_session.commit()
    flash(f"Contact type “{name}” deleted.", "success")
    return redirect(url_for("crm_contacts.contact_types"))
