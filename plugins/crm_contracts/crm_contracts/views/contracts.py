"""The contracts list, choosing a client for a new contract, the contract's page, its form, and
the acts on it: terminate early, renew, delete a draft."""

from __future__ import annotations

import math
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import ColumnElement, func, select

from core.attachments import attachments_of
from core.audit import history_for
from core.auth import has_permission
from core.db import db_session
from core.locking import check_version
from core.paging import page_links
from core.permissions import permission_required
from core.timezone import local_today
from crm_contacts.models import Client
from crm_contracts.blueprints import bp
from crm_contracts.models import STATUS_LABELS, STATUSES, Contract
from crm_contracts.permissions import READ, RENEW, WRITE
from crm_contracts.schemas import ContractSchema, RenewSchema, TerminateSchema
from crm_contracts.search import matching
from crm_contracts.service import (
    CONTRACT_FIELDS,
    create_contract,
    renew,
    renewal_defaults,
    terminate,
    update_contract,
    visible_client,
)
from crm_contracts.views.common import (
    MAX_WITHIN,
    PER_PAGE,
    ROW_OPTIONS,
    contract_types,
    ending_within,
    form_errors,
    form_text,
    form_values,
    int_arg,
    load_contract,
    schema_input,
    users,
)

FIELDS = tuple(name for name in CONTRACT_FIELDS if name != "client_id")  # the client is fixed
OPTIONAL = (
    "type_id", "signed_on", "valid_from", "valid_to", "notice_days", "value",
    "payment_term_days", "responsible_id",
)  # fmt: skip
CLIENT_CHOICES = 20


# --- the list ------------------------------------------------------------------------------------


@bp.route("/")
@permission_required(READ)
def contract_list():
    query = " ".join(request.args.get("q", "").split())
    status = request.args.get("status", "")
    status = status if status in STATUSES else ""
    client_id = int_arg("client")
    type_id = int_arg("type")
    responsible_id = int_arg("rep")
    within = int_arg("within")
    within = min(within, MAX_WITHIN) if within is not None else None

    conditions: list[ColumnElement[bool]] = []
    if query:
        conditions.append(matching(query))
    if status:
        conditions.append(Contract.status == status)
    if client_id is not None:
        conditions.append(Contract.client_id == client_id)
    if type_id is not None:
        conditions.append(Contract.type_id == type_id)
    if responsible_id is not None:
        conditions.append(Contract.responsible_id == responsible_id)
    order: tuple[Any, ...] = (Contract.id.desc(),)
    if within is not None:
        conditions.append(ending_within(within))
        order = (Contract.valid_to.asc(), Contract.id.asc())

    total = db_session.scalar(select(func.count()).select_from(Contract).where(*conditions)) or 0
    pages = max(1, math.ceil(total / PER_PAGE))
    page = min(max(int_arg("page") or 1, 1), pages)
    contracts = db_session.scalars(
        select(Contract)
        .where(*conditions)
        .options(*ROW_OPTIONS)
        .order_by(*order)
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    client_name = (
        db_session.scalar(select(Client.name).where(Client.id == client_id))
        if client_id is not None
        else None
    )
    filters = {"q": query, "status": status, "client": client_id, "type": type_id,
               "rep": responsible_id, "within": within}  # fmt: skip
    filters = {k: v for k, v in filters.items() if v not in ("", None)}
    return render_template(
        "crm_contracts/contract_list.html",
        contracts=contracts,
        total=total,
        page=page,
        pages=pages,
        page_links=page_links(page, pages),
        query=query,
        filters=filters,
        filtered=bool(filters),
        statuses=[(s, STATUS_LABELS[s]) for s in STATUSES],
        types=contract_types(),
        users=users(responsible_id),
        client_name=client_name,
    )


# --- create and edit -----------------------------------------------------------------------------


def _render_form(contract: Contract | None, client: Client, values: dict, errors: dict,
                 status: int = 200):  # fmt: skip
    return render_template(
        "crm_contracts/contract_form.html",
        contract=contract,
        client=client,
        values=values,
        errors=errors,
        types=contract_types(),
    ), status


def _load(values: dict[str, str], client_id: int) -> dict[str, Any]:
    """The posted form through the schema, for ``client_id``; the currency in capitals."""
    return ContractSchema().load(
        {
            **schema_input(values, OPTIONAL),
            "client_id": client_id,
            "currency": values["currency"].upper() or "EUR",
        }
    )


@bp.route("/new")
@permission_required(WRITE)
def contract_new_client():
    """A new contract starts from its client: find it (or come from the client file)."""
    chosen = request.args.get("client_id", "")
    if chosen.isdigit():
        return redirect(url_for("crm_contracts.contract_new", client_id=int(chosen)))
    query = " ".join(request.args.get("q", "").split())
    clients: list[Any] = []
    if query:
        clients = db_session.execute(
            select(Client.id, Client.name)
            .where(func.lower(Client.name).contains(query.lower(), autoescape=True))
            .order_by(Client.name, Client.id)
            .limit(CLIENT_CHOICES)
        ).all()
    return render_template(
        "crm_contracts/choose_client.html", query=query, clients=clients, limit=CLIENT_CHOICES
    )


@bp.route("/new/<int:client_id>", methods=["GET", "POST"])
@permission_required(WRITE)
def contract_new(client_id: int):
    client = visible_client(client_id) or abort(404)
    if request.method == "GET":
        today = local_today()
        defaults = {
            "valid_from": today.isoformat(),
            "currency": "EUR",
            "responsible_id": str(client.responsible_id or current_user.id),
            "payment_term_days": str(client.payment_term_days or ""),
        }
        return _render_form(None, client, defaults, {})
    values = form_values(FIELDS)
    try:
        contract = create_contract(_load(values, client.id))
    except ValidationError as error:
        db_session.rollback()
        return _render_form(None, client, values, form_errors(error.messages_dict), 400)
    db_session.commit()
    flash(f"Contract {contract.number} created.", "success")
    return redirect(url_for("crm_contracts.contract_detail", contract_id=contract.id))


@bp.route("/<int:contract_id>/edit", methods=["GET", "POST"])
@permission_required(WRITE)
def contract_edit(contract_id: int):
    contract = load_contract(contract_id)
    if request.method == "GET":
        return _render_form(
            contract,
            contract.client,
            {**form_text(contract, FIELDS), "version": str(contract.version)},
            {},
        )
    check_version(contract, request.form.get("version"))
    values = {**form_values(FIELDS), "version": request.form.get("version", "")}
    try:
        data = _load(values, contract.client_id)
        data.pop("client_id")
        update_contract(contract, data)
    except ValidationError as error:
        return _render_form(contract, contract.client, values, form_errors(error.messages_dict),
                            400)  # fmt: skip
    db_session.commit()
    flash(f"Contract {contract.number} saved.", "success")
    return redirect(url_for("crm_contracts.contract_detail", contract_id=contract.id))


# --- the contract's page -------------------------------------------------------------------------


@bp.route("/<int:contract_id>")
@permission_required(READ)
def contract_detail(contract_id: int):
    contract = load_contract(contract_id)
    return render_template(
        "crm_contracts/contract_detail.html",
        contract=contract,
        can_write=has_permission(WRITE),
        can_renew=has_permission(RENEW),
        files=attachments_of(db_session, contract),
        history=history_for(db_session, Contract.__tablename__, contract.id),
    )


# --- acts ----------------------------------------------------------------------------------------


@bp.route("/<int:contract_id>/terminate", methods=["GET", "POST"])
@permission_required(WRITE)
def contract_terminate(contract_id: int):
    contract = load_contract(contract_id, with_conditions=False)
    values: dict[str, Any] = {
        "terminated_on": local_today().isoformat(),
        "termination_reason": "",
        "version": str(contract.version),
    }
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        check_version(contract, request.form.get("version"))
        values = {**form_values(("terminated_on", "termination_reason")),
                  "version": request.form.get("version", "")}  # fmt: skip
        try:
            terminate(contract, TerminateSchema().load(values))
        except ValidationError as error:
            errors = form_errors(error.messages_dict)
        else:
            db_session.commit()
            flash(f"Contract {contract.number} terminated as of {contract.terminated_on}.",
                  "success")  # fmt: skip
            return redirect(url_for("crm_contracts.contract_detail", contract_id=contract.id))
    return render_template(
        "crm_contracts/contract_terminate.html", contract=contract, values=values, errors=errors
    ), (400 if errors else 200)


@bp.route("/<int:contract_id>/renew", methods=["GET", "POST"])
@permission_required(RENEW)
def contract_renew(contract_id: int):
    contract = load_contract(contract_id)
    defaults = renewal_defaults(contract)
    values: dict[str, Any] = {
        "title": defaults["title"],
        "valid_from": defaults["valid_from"].isoformat() if defaults["valid_from"] else "",
        "valid_to": defaults["valid_to"].isoformat() if defaults["valid_to"] else "",
        "copy_conditions": "y",
        "version": str(contract.version),
    }
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        check_version(contract, request.form.get("version"))
        values = {**form_values(("title", "valid_from", "valid_to")),
                  "copy_conditions": request.form.get("copy_conditions", ""),
                  "version": request.form.get("version", "")}  # fmt: skip
        try:
            data = RenewSchema().load(
                {
                    **schema_input(values, ("valid_from", "valid_to")),
                    "copy_conditions": values["copy_conditions"] == "y",
                }  # fmt: skip
            )
            successor = renew(contract, data)
        except ValidationError as error:
            db_session.rollback()
            contract = load_contract(contract_id)
            errors = form_errors(error.messages_dict)
        else:
            db_session.commit()
            # A representative prepares; whoever edits contracts checks the draft and signs it.
            then = (
                "check it, then record when it is signed."
                if has_permission(WRITE)
                else "a draft, which a sales manager or the back office checks and signs."
            )
            flash(
                f"Contract {successor.number} created to renew {contract.number}: {then}",
                "success",
            )
            return redirect(url_for("crm_contracts.contract_detail", contract_id=successor.id))
    return render_template(
        "crm_contracts/contract_renew.html", contract=contract, values=values, errors=errors
    ), (400 if errors else 200)


@bp.route("/<int:contract_id>/delete", methods=["GET", "POST"])
@permission_required(WRITE)
def contract_delete(contract_id: int):
    """Only a draft can be deleted; a contract that was signed is terminated instead."""
    contract = load_contract(contract_id)
    if contract.signed_on is not None:
        flash("A signed contract is not deleted: terminate it instead.", "warning")
        return redirect(url_for("crm_contracts.contract_detail", contract_id=contract.id))
    if request.method == "GET":
        return render_template("crm_contracts/contract_delete.html", contract=contract)
    check_version(contract, request.form.get("version"))
    number, client_id = contract.number, contract.client_id
    if contract.predecessor is not None:
        contract.predecessor.successor_id = None
    db_session.delete(contract)
    db_session.commit()
    flash(f"Draft contract {number} deleted.", "success")
    return redirect(url_for("crm_contracts.contract_list", client=client_id))
