"""Settings of the module: contract numbering, the expiring window, and the list of contract
types (permission ``crm_contracts.configure``)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError, fields, validate
from sqlalchemy import func, select

from core.db import db_session
from core.locking import check_version
from core.permissions import permission_required
from crm_contracts.blueprints import bp
from crm_contracts.models import Contract, ContractType
from crm_contracts.numbering import format_number, settings
from crm_contracts.permissions import CONFIGURE
from crm_contracts.schemas import Base, text
from crm_contracts.views.common import form_errors, form_values


class SettingsSchema(Base):
    number_prefix = fields.String(
        load_default="",
        validate=validate.Regexp(
            r"^[A-Za-z0-9/_.-]{0,20}$",
            error="Up to 20 letters, digits and - _ . / (no spaces).",
        ),
    )
    number_digits = fields.Integer(
        required=True, strict=False, validate=validate.Range(min=1, max=10)
    )
    expiring_days = fields.Integer(
        required=True, strict=False, validate=validate.Range(min=1, max=366)
    )


class TypeSchema(Base):
    code = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[a-z][a-z0-9_]{0,49}$", error="Lowercase letters, digits and underscores."
        ),
    )
    name = text(100, required=True)
    order = fields.Integer(load_default=100, strict=False, validate=validate.Range(min=0))


def _render(values: dict, errors: dict, status: int = 200):
    types = db_session.execute(
        select(ContractType, func.count(Contract.id))
        .outerjoin(Contract, Contract.type_id == ContractType.id)
        .group_by(ContractType.id)
        .order_by(ContractType.order, ContractType.name)
        .execution_options(crm_all_records=True)
    ).all()
    example = format_number(
        values["number_prefix"],
        2026,
        7,
        int(values["number_digits"]) if str(values.get("number_digits", "")).isdigit() else 4,
    )
    return render_template(
        "crm_contracts/settings.html",
        values=values,
        errors=errors,
        types=types,
        example=example,
    ), status


@bp.route("/settings", methods=["GET", "POST"])
@permission_required(CONFIGURE)
def settings_page():
    config = settings(db_session)
    if request.method == "GET":
        values = {
            "number_prefix": config.number_prefix,
            "number_digits": str(config.number_digits),
            "expiring_days": str(config.expiring_days),
            "version": str(config.version),
        }
        db_session.commit()  # the settings row, when this is the first visit
        return _render(values, {})
    check_version(config, request.form.get("version"))
    values = {**form_values(("number_prefix", "number_digits", "expiring_days")),
              "version": request.form.get("version", "")}  # fmt: skip
    try:
        data = SettingsSchema().load(values)
    except ValidationError as error:
        return _render(values, form_errors(error.messages_dict), 400)
    for key, value in data.items():
        setattr(config, key, value)
    db_session.commit()
    flash("Settings saved.", "success")
    return redirect(url_for("crm_contracts.settings_page"))


def _type_form(record: ContractType | None, values: dict, errors: dict, status: int = 200):
    return render_template(
        "crm_contracts/type_form.html", record=record, values=values, errors=errors
    ), status


def _save_type(record: ContractType | None):
    values = form_values(("code", "name", "order"))
    try:
        data = TypeSchema().load({**values, "order": values["order"] or 100})
    except ValidationError as error:
        return _type_form(record, values, form_errors(error.messages_dict), 400)
    clash = db_session.scalar(
        select(ContractType.id).where(
            ContractType.code == data["code"], ContractType.id != (record.id if record else -1)
        )
    )
    if clash is not None:
        return _type_form(record, values, {"code": ["Another type has this code."]}, 400)
    record = record or ContractType()
    for key, value in data.items():
        setattr(record, key, value)
    db_session.add(record)
    db_session.commit()
    flash(f"Contract type “{record.name}” saved.", "success")
    return redirect(url_for("crm_contracts.settings_page", _anchor="types"))


@bp.route("/settings/types/new", methods=["GET", "POST"])
@permission_required(CONFIGURE)
def type_new():
    if request.method == "GET":
        return _type_form(None, {"order": "100"}, {})
    return _save_type(None)


@bp.route("/settings/types/<int:type_id>/edit", methods=["GET", "POST"])
@permission_required(CONFIGURE)
def type_edit(type_id: int):
    record = db_session.get(ContractType, type_id) or abort(404)
    if request.method == "GET":
        values = {"code": record.code, "name": record.name, "order": str(record.order)}
        return _type_form(record, values, {})
    check_version(record)
    return _save_type(record)


@bp.route("/settings/types/<int:type_id>/delete", methods=["GET", "POST"])
@permission_required(CONFIGURE)
def type_delete(type_id: int):
    record = db_session.get(ContractType, type_id) or abort(404)
    used = db_session.scalar(
        select(func.count())
        .select_from(Contract)
        .where(Contract.type_id == record.id)
        .execution_options(crm_all_records=True)
    )
    if request.method == "GET":
        return render_template("crm_contracts/type_delete.html", record=record, used=used)
    check_version(record)
    name = record.name
    db_session.delete(record)
    db_session.commit()
    flash(f"Contract type “{name}” deleted; {used} contracts now have no type.", "success")
    return redirect(url_for("crm_contracts.settings_page", _anchor="types"))
