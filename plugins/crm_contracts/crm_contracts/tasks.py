"""Cooperation with crm_tasks, which this module does not depend on: a "conclude a new contract"
commitment can be completed by linking the contract it produced. crm_tasks asks every installed
module through its hook ``crm_tasks_completion_links``; without crm_tasks the hook does not exist
and this implementation (optional) is simply never called."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from core import hookimpl
from core.db import db_session
from crm_contracts.models import Contract

COMMITMENT_CODES = ("new_contract",)
OFFERED = 20


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def contracts_for_task(task: Any) -> list[dict[str, Any]]:
    """The contracts of the task's client created since the task was, newest first: one query,
    through the request's session (record rules apply)."""
    commitment = getattr(task, "commitment_type", None)
    client_id = getattr(task, "client_id", None)
    if client_id is None or getattr(commitment, "code", None) not in COMMITMENT_CODES:
        return []
    stmt = (
        select(Contract)
        .where(Contract.client_id == client_id)
        .options(joinedload(Contract.client))
        .order_by(Contract.created_at.desc(), Contract.id.desc())
        .limit(OFFERED)
    )
    since = _utc(getattr(task, "created_at", None))
    if since is not None:
        stmt = stmt.where(Contract.created_at >= since)
    return [
        {
            "model": Contract.__tablename__,
            "record_id": contract.id,
            "label": f"Contract {contract.number}, {contract.client.name}: {contract.title}, "
            f"from {contract.valid_from.isoformat()}",
            "url": url_for("crm_contracts.contract_detail", contract_id=contract.id),
        }
        for contract in db_session.scalars(stmt)
    ]


@hookimpl(optionalhook=True)
def crm_tasks_completion_links(task: Any) -> list[dict[str, Any]]:
    return contracts_for_task(task)
