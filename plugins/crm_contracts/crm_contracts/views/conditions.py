"""The conditions of a contract: negotiated product prices and product-group discounts, each
added, edited and deleted from the contract's page and returning to it.

The contract is the unit of locking: conditions have no version of their own, so their forms carry
the contract's version, and every change to a condition moves it on.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import select

from core.db import db_session
from core.locking import check_version
from core.permissions import permission_required
from crm_contracts.blueprints import bp
from crm_contracts.catalogue import catalogue
from crm_contracts.models import Condition, Contract
from crm_contracts.permissions import WRITE
from crm_contracts.schemas import ConditionSchema
from crm_contracts.service import (
    CONDITION_FIELDS,
    add_condition,
    remove_condition,
    update_condition,
)
from crm_contracts.views.common import (
    form_errors,
    form_text,
    form_values,
    load_contract,
    schema_input,
)

OPTIONAL = ("price", "discount_percent", "valid_from", "valid_to")


def _back(contract: Contract):
    return redirect(
        url_for("crm_contracts.contract_detail", contract_id=contract.id, _anchor="conditions")
    )


def _render(contract: Contract, condition: Condition | None, values: dict, errors: dict,
            status: int = 200):  # fmt: skip
    found = catalogue()
    return render_template(
        "crm_contracts/condition_form.html",
        contract=contract,
        condition=condition,
        values=values,
        errors=errors,
        products=found.product_choices() if found else [],
        groups=found.group_choices() if found else [],
    ), status


def _load_condition(condition_id: int) -> Condition:
    condition = db_session.scalars(
        select(Condition).where(Condition.id == condition_id)
    ).one_or_none()
    if condition is None:
        abort(404)
    load_contract(condition.contract_id)  # 404 when the contract is hidden from this user
    return condition


def _posted() -> tuple[dict[str, str], dict[str, Any]]:
    values = {**form_values(CONDITION_FIELDS), "version": request.form.get("version", "")}
    return values, schema_input(values, OPTIONAL)  # the schema ignores the version


@bp.route("/<int:contract_id>/conditions/new", methods=["GET", "POST"])
@permission_required(WRITE)
def condition_new(contract_id: int):
    contract = load_contract(contract_id)
    if request.method == "GET":
        kind = request.args.get("kind", "discount")
        return _render(contract, None, {"kind": kind, "version": contract.version}, {})
    check_version(contract, request.form.get("version"))
    values, data = _posted()
    try:
        add_condition(contract, ConditionSchema().load(data))
    except ValidationError as error:
        db_session.rollback()
        contract = load_contract(contract_id)
        return _render(contract, None, values, form_errors(error.messages_dict), 400)
    db_session.commit()
    flash("Condition added.", "success")
    return _back(contract)


@bp.route("/conditions/<int:condition_id>/edit", methods=["GET", "POST"])
@permission_required(WRITE)
def condition_edit(condition_id: int):
    condition = _load_condition(condition_id)
    contract = condition.contract
    if request.method == "GET":
        values = {**form_text(condition, CONDITION_FIELDS), "version": str(contract.version)}
        return _render(contract, condition, values, {})
    check_version(contract, request.form.get("version"))
    values, data = _posted()
    try:
        update_condition(condition, ConditionSchema().load(data))
    except ValidationError as error:
        db_session.rollback()
        condition = _load_condition(condition_id)
        return _render(condition.contract, condition, values, form_errors(error.messages_dict),
                       400)  # fmt: skip
    db_session.commit()
    flash("Condition saved.", "success")
    return _back(contract)


@bp.route("/conditions/<int:condition_id>/delete", methods=["GET", "POST"])
@permission_required(WRITE)
def condition_delete(condition_id: int):
    condition = _load_condition(condition_id)
    contract = condition.contract
    if request.method == "GET":
        return render_template(
            "crm_contracts/condition_delete.html", condition=condition, contract=contract
        )
    check_version(contract, request.form.get("version"))
    remove_condition(condition)
    db_session.commit()
    flash("Condition deleted.", "success")
    return _back(contract)
