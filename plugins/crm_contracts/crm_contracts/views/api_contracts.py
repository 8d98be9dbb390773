"""JSON API of contracts: /api/v1/contracts (list, create, read, change, terminate, renew), their
conditions (/api/v1/contracts/<id>/conditions) and signed documents (…/attachments)."""

from __future__ import annotations

from flask import abort, jsonify, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from core.api import ApiError, api_doc, created, load_json, paginate, query_int
from core.attachments import AttachmentError, attach, attachments_of
from core.db import db_session
from core.locking import check_version
from core.permissions import permission_required
from crm_contracts.blueprints import api
from crm_contracts.models import STATUSES, Condition, Contract
from crm_contracts.permissions import READ, RENEW, WRITE
from crm_contracts.schemas import (
    ConditionSchema,
    ConditionUpdateSchema,
    ContractSchema,
    ContractUpdateSchema,
    RenewSchema,
    TerminateSchema,
)
from crm_contracts.service import (
    add_condition,
    create_contract,
    remove_condition,
    renew,
    terminate,
    update_condition,
    update_contract,
)
from crm_contracts.views.common import ending_within, load_contract

LIST_OPTIONS = (
    joinedload(Contract.client),
    joinedload(Contract.type),
    selectinload(Contract.conditions),
)


def _dump(contract: Contract) -> dict:
    return ContractSchema().dump(contract)


@api.route("")
@permission_required(READ)
@api_doc(
    "List the contracts of the clients you may see",
    response_schema=ContractSchema,
    many=True,
    query=("status", "client_id", "type_id", "expiring_within", "page", "per_page", "sort"),
)
def api_contract_list():
    stmt = select(Contract).options(*LIST_OPTIONS)
    status = request.args.get("status", "")
    if status:
        if status not in STATUSES:
            raise ApiError({"status": [f"Must be one of: {', '.join(STATUSES)}."]})
        stmt = stmt.where(Contract.status == status)
    for name, column in (("client_id", Contract.client_id), ("type_id", Contract.type_id)):
        value = query_int(name)
        if value is not None:
            stmt = stmt.where(column == value)
    within = query_int("expiring_within")
    if within is not None:
        stmt = stmt.where(ending_within(within))
    return jsonify(
        paginate(
            stmt,
            ContractSchema(),
            model=Contract,
            sortable=("id", "number", "valid_from", "valid_to", "signed_on"),
            default_sort="-id",
        )
    )


@api.route("", methods=["POST"])
@permission_required(WRITE)
@api_doc("Create a contract (its number is allocated)", request_schema=ContractSchema,
         response_schema=ContractSchema)  # fmt: skip
def api_contract_create():
    contract = create_contract(load_json(ContractSchema()))
    db_session.commit()
    contract = load_contract(contract.id)
    return created(_dump(contract), url_for(".api_contract_get", contract_id=contract.id))


@api.route("/<int:contract_id>")
@permission_required(READ)
@api_doc("A contract with its conditions", response_schema=ContractSchema)
def api_contract_get(contract_id: int):
    return jsonify(_dump(load_contract(contract_id)))


@api.route("/<int:contract_id>", methods=["PATCH"])
@permission_required(WRITE)
@api_doc("Change a contract: the fields given, and the version read",
         request_schema=ContractUpdateSchema, response_schema=ContractSchema)  # fmt: skip
def api_contract_update(contract_id: int):
    contract = load_contract(contract_id)
    payload = request.get_json(silent=True)
    check_version(contract, payload.get("version") if isinstance(payload, dict) else None)
    data = load_json(ContractUpdateSchema(), partial=True)
    if "client_id" in data and data["client_id"] != contract.client_id:
        raise ApiError({"client_id": ["A contract stays with its client."]})
    update_contract(contract, data)
    db_session.commit()
    return jsonify(_dump(load_contract(contract_id)))


@api.route("/<int:contract_id>/terminate", methods=["POST"])
@permission_required(WRITE)
@api_doc("Terminate a contract early (date and reason)", request_schema=TerminateSchema,
         response_schema=ContractSchema)  # fmt: skip
def api_contract_terminate(contract_id: int):
    contract = load_contract(contract_id)
    data = load_json(TerminateSchema())
    check_version(contract, data.get("version"))
    terminate(contract, data)
    db_session.commit()
    return jsonify(_dump(load_contract(contract_id)))


@api.route("/<int:contract_id>/renew", methods=["POST"])
@permission_required(RENEW)
@api_doc("Renew a contract: a successor draft, linked both ways", request_schema=RenewSchema,
         response_schema=ContractSchema)  # fmt: skip
def api_contract_renew(contract_id: int):
    contract = load_contract(contract_id)
    data = load_json(RenewSchema())
    check_version(contract, data.get("version"))
    successor = renew(contract, data)
    db_session.commit()
    successor = load_contract(successor.id)
    return created(_dump(successor), url_for(".api_contract_get", contract_id=successor.id))


@api.route("/<int:contract_id>/conditions")
@permission_required(READ)
@api_doc("The conditions of a contract", response_schema=ConditionSchema, many=True)
def api_condition_list(contract_id: int):
    contract = load_contract(contract_id)
    return jsonify(items=ConditionSchema().dump(contract.conditions, many=True))


@api.route("/<int:contract_id>/conditions", methods=["POST"])
@permission_required(WRITE)
@api_doc("Add a negotiated price or a group discount", request_schema=ConditionSchema,
         response_schema=ConditionSchema)  # fmt: skip
def api_condition_create(contract_id: int):
    contract = load_contract(contract_id)
    condition = add_condition(contract, load_json(ConditionSchema()))
    db_session.commit()
    return created(
        ConditionSchema().dump(condition),
        url_for(".api_condition_list", contract_id=contract.id),
    )


def _condition_or_404(contract_id: int, condition_id: int) -> Condition:
    contract = load_contract(contract_id)
    for condition in contract.conditions:
        if condition.id == condition_id:
            return condition
    abort(404)


@api.route("/<int:contract_id>/conditions/<int:condition_id>", methods=["PUT"])
@permission_required(WRITE)
@api_doc("Replace a condition. The body (or an If-Match header) carries the version the "
         "condition was read at; 409 with the current values when someone changed it since",
         request_schema=ConditionUpdateSchema, response_schema=ConditionSchema)  # fmt: skip
def api_condition_update(contract_id: int, condition_id: int):
    condition = _condition_or_404(contract_id, condition_id)
    data = load_json(ConditionUpdateSchema())
    check_version(condition)
    data.pop("version", None)
    update_condition(condition, data)
    db_session.commit()
    return jsonify(ConditionSchema().dump(condition))


@api.route("/<int:contract_id>/conditions/<int:condition_id>", methods=["DELETE"])
@permission_required(WRITE)
@api_doc("Delete a condition")
def api_condition_delete(contract_id: int, condition_id: int):
    remove_condition(_condition_or_404(contract_id, condition_id))
    db_session.commit()
    return "", 204


def _attachment_out(attachment) -> dict:
    return {
        "id": attachment.id,
        "name": attachment.name,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "created_at": attachment.created_at.isoformat() if attachment.created_at else None,
        "download_url": url_for("core_attachments.download", attachment_id=attachment.id),
    }


@api.route("/<int:contract_id>/attachments")
@permission_required(READ)
@api_doc("The signed documents attached to a contract")
def api_attachment_list(contract_id: int):
    contract = load_contract(contract_id)
    return jsonify(items=[_attachment_out(a) for a in attachments_of(db_session, contract)])


@api.route("/<int:contract_id>/attachments", methods=["POST"])
@permission_required(WRITE)
@api_doc("Attach a signed document (multipart/form-data, field `file`)")
def api_attachment_create(contract_id: int):
    contract = load_contract(contract_id)
    file = request.files.get("file")
    if file is None or not file.filename:
        raise ApiError({"file": ["Send the document as multipart/form-data in the field file."]})
    try:
        attachment = attach(db_session, contract, file, current_user)
    except AttachmentError as error:
        raise ApiError({"file": [str(error)]}) from None
    db_session.commit()
    return created(
        _attachment_out(attachment), url_for(".api_attachment_list", contract_id=contract.id)
    )
