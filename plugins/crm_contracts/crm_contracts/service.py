"""What happens to contracts, shared by the forms and the JSON API so that both create, change,
terminate and renew a contract exactly the same way, with the same refusals.

Every refusal is a marshmallow ``ValidationError`` naming the field: the API answers it with 400
(``{"errors": {...}}``), the forms show it under the field. Nothing is written before every check
has passed.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select

from core.db import db_session
from core.models import User
from crm_contacts.models import Client
from crm_contracts.catalogue import catalogue
from crm_contracts.models import Condition, Contract, ContractType
from crm_contracts.numbering import next_number
from crm_contracts.schemas import check_period

CONTRACT_FIELDS = (
    "client_id", "title", "type_id", "signed_on", "valid_from", "valid_to", "notice_days",
    "value", "currency", "payment_term_days", "responsible_id", "notes",
)  # fmt: skip
CONDITION_FIELDS = (
    "kind", "product_code", "product_name", "group_code", "group_name", "price",
    "discount_percent", "valid_from", "valid_to", "note",
)  # fmt: skip


def visible_client(client_id: int | None) -> Client | None:
    """The client, if it exists and the current user may see it (a statement, so record rules
    apply)."""
    if client_id is None:
        return None
    return db_session.scalars(select(Client).where(Client.id == client_id)).one_or_none()


def _describe(start: date | None, end: date | None) -> str:
    return f"{start.isoformat() if start else '…'} – {end.isoformat() if end else 'open-ended'}"


def _check_references(data: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    if "client_id" in data and visible_client(data["client_id"]) is None:
        errors["client_id"] = ["No such client among those you may see."]
    if data.get("type_id") is not None and db_session.get(ContractType, data["type_id"]) is None:
        errors["type_id"] = ["No such contract type."]
    if data.get("responsible_id") is not None:
        user = db_session.get(User, data["responsible_id"])
        if user is None:
            errors["responsible_id"] = ["No such user."]
    if errors:
        raise ValidationError(errors)


def _check_validity(contract: Contract | None, data: dict[str, Any]) -> None:
    """The contract's period, as it will be after the change, is consistent, and every condition
    with dates of its own still lies inside it."""
    start = data.get("valid_from", contract.valid_from if contract else None)
    end = data.get("valid_to", contract.valid_to if contract else None)
    check_period({"valid_from": start, "valid_to": end})
    if contract is None:
        return
    for condition in contract.conditions:
        if condition.valid_from and condition.valid_from < start:
            raise ValidationError(
                {"valid_from": [
                    f"The condition “{condition.subject}” starts on {condition.valid_from}, "
                    "before this date: change the condition first."
                ]}
            )  # fmt: skip
        if end and condition.valid_to and condition.valid_to > end:
            raise ValidationError(
                {"valid_to": [
                    f"The condition “{condition.subject}” runs until {condition.valid_to}, "
                    "after this date: change the condition first."
                ]}
            )  # fmt: skip


def create_contract(data: dict[str, Any], *, same_client: bool = False) -> Contract:
    """``same_client``: the client is that of a contract the user may see (a renewal), checked
    already; a representative renewing a contract assigned to her may not see its client."""
    _check_references({k: v for k, v in data.items() if not (same_client and k == "client_id")})
    _check_validity(None, data)
    contract = Contract(**{k: v for k, v in data.items() if k in CONTRACT_FIELDS})
    contract.number = next_number(db_session)
    db_session.add(contract)
    db_session.flush()
    return contract


def update_contract(contract: Contract, data: dict[str, Any]) -> None:
    changes = {k: v for k, v in data.items() if k in CONTRACT_FIELDS}
    _check_references(changes)
    _check_validity(contract, changes)
    for key, value in changes.items():
        setattr(contract, key, value)


def _check_condition(contract: Contract, data: dict[str, Any]) -> dict[str, Any]:
    """Refuse a condition outside the contract's validity, or naming a product or group the
    installed catalogue does not have; fill in the catalogue's name when none was typed."""
    start, end = contract.valid_from, contract.valid_to
    errors: dict[str, list[str]] = {}
    for name in ("valid_from", "valid_to"):
        day = data.get(name)
        if day is not None and (day < start or (end is not None and day > end)):
            errors[name] = [f"Must lie within the contract's validity ({_describe(start, end)})."]
    data = dict(data)
    if data["kind"] == "price":
        data.update(group_code="", group_name="", discount_percent=None)
    else:
        data.update(product_code="", product_name="", price=None)
    found = catalogue()
    if found is not None:
        if data["kind"] == "price" and found.product is not None:
            name = found.product_name(data["product_code"])
            if name is None:
                errors["product_code"] = ["No product with this code in the catalogue."]
            elif not data.get("product_name"):
                data["product_name"] = name
        if data["kind"] == "discount" and found.group is not None:
            name = found.group_name(data["group_code"])
            if name is None:
                errors["group_code"] = ["No product group with this code in the catalogue."]
            elif not data.get("group_name"):
                data["group_name"] = name
    if errors:
        raise ValidationError(errors)
    return data


def _conditions_changed(contract: Contract) -> None:
    """The contract's pages lock a condition through the contract's version (a condition's
    forms are checked against it): every change to one of its conditions moves it on. The API
    checks the condition's own version."""
    contract.version = contract.version + 1


def add_condition(contract: Contract, data: dict[str, Any]) -> Condition:
    data = _check_condition(contract, data)
    condition = Condition(**{k: v for k, v in data.items() if k in CONDITION_FIELDS})
    contract.conditions.append(condition)
    _conditions_changed(contract)
    db_session.flush()
    return condition


def update_condition(condition: Condition, data: dict[str, Any]) -> None:
    data = _check_condition(condition.contract, data)
    for key in CONDITION_FIELDS:
        if key in data:
            setattr(condition, key, data[key])
    _conditions_changed(condition.contract)


def remove_condition(condition: Condition) -> None:
    contract = condition.contract
    contract.conditions.remove(condition)
    _conditions_changed(contract)


def terminate(contract: Contract, data: dict[str, Any]) -> None:
    """Terminate early: from ``terminated_on`` the contract is no longer in force, and its
    conditions no longer price anything."""
    day = data["terminated_on"]
    if contract.signed_on is None:
        raise ValidationError({"_schema": ["A draft was never in force: delete it instead."]})
    if contract.terminated_on is not None:
        raise ValidationError({"_schema": [f"Already terminated on {contract.terminated_on}."]})
    if day < contract.valid_from:
        raise ValidationError(
            {"terminated_on": [f"Must not be before the contract starts ({contract.valid_from})."]}
        )
    if contract.valid_to is not None and day > contract.valid_to:
        raise ValidationError(
            {"terminated_on": [f"Must not be after the contract ends ({contract.valid_to})."]}
        )
    contract.terminated_on = day
    contract.termination_reason = data["termination_reason"]


def renewal_defaults(contract: Contract) -> dict[str, Any]:
    """A successor starting the day after this contract ends, for as long again."""
    if contract.valid_to is None:
        return {"title": contract.title, "valid_from": None, "valid_to": None}
    start = contract.valid_to + timedelta(days=1)
    end = start + (contract.valid_to - contract.valid_from)
    return {"title": contract.title, "valid_from": start, "valid_to": end}


def renew(contract: Contract, data: dict[str, Any]) -> Contract:
    """Create the successor (a draft to sign) and link the two both ways. Conditions are copied
    without dates of their own: they follow the new contract's validity."""
    if contract.successor_id is not None:
        raise ValidationError({"_schema": ["This contract was renewed already."]})
    if contract.signed_on is None:
        raise ValidationError({"_schema": ["A draft cannot be renewed: sign it or edit it."]})
    if contract.terminated_on is not None:
        raise ValidationError(
            {"_schema": ["A terminated contract is not renewed: record a new contract instead."]}
        )
    if contract.valid_to is not None and data["valid_from"] <= contract.valid_to:
        raise ValidationError(
            {"valid_from": [f"Must be after the current contract ends ({contract.valid_to})."]}
        )
    successor = create_contract(
        {
            "client_id": contract.client_id,
            "title": data.get("title") or contract.title,
            "type_id": contract.type_id,
            "valid_from": data["valid_from"],
            "valid_to": data.get("valid_to"),
            "notice_days": contract.notice_days,
            "value": contract.value,
            "currency": contract.currency,
            "payment_term_days": contract.payment_term_days,
            "responsible_id": contract.responsible_id,
            "notes": "",
        },
        same_client=True,
    )
    successor.predecessor_id = contract.id
    if data.get("copy_conditions", True):
        for old in contract.conditions:
            successor.conditions.append(
                Condition(
                    **{
                        k: getattr(old, k)
                        for k in CONDITION_FIELDS
                        if k not in ("valid_from", "valid_to")
                    }
                )
            )
    contract.successor_id = successor.id
    db_session.flush()
    return successor
