"""A "conclude a new contract" task can be completed by linking the contract it produced, offered
through crm_tasks' hook, which crm_contracts implements as optional (no import of crm_tasks)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from core.plugins import collect
from core.state import current_state
from crm_contracts.tasks import contracts_for_task

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _task(client_id, code="new_contract", created_at=NOW - timedelta(hours=1)):
    return SimpleNamespace(
        client_id=client_id, commitment_type=SimpleNamespace(code=code), created_at=created_at
    )


def _create(client, client_id: int) -> int:
    from core.testing import logged_in

    answer = logged_in(client, "georgi").post(
        "/api/v1/contracts",
        json={"client_id": client_id, "title": "Supply 2027", "valid_from": "2027-01-01"},
    )
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["id"]


def test_contracts_created_since_the_task_are_offered(app, clock):
    contract_id = _create(app, app.ids.bioprom)
    _create(app, app.ids.agrotech)
    with app.test_request_context():
        offered = contracts_for_task(_task(app.ids.bioprom))
        assert offered == [
            {
                "model": "crm_contracts_contract",
                "record_id": contract_id,
                "label": "Contract C-2026-0001, Bioprom: Supply 2027, from 2027-01-01",
                "url": f"/contracts/{contract_id}",
            }
        ]
        assert contracts_for_task(_task(app.ids.bioprom, code="offer")) == []
        assert contracts_for_task(_task(None)) == []
        later = _task(app.ids.bioprom, created_at=NOW + timedelta(hours=1))
        assert contracts_for_task(later) == []


def test_crm_tasks_collects_the_offer_when_installed(crm_app_factory, crm_plugins, clock):
    if "crm_tasks" not in crm_plugins or crm_plugins["crm_tasks"].broken:
        pytest.skip("crm_tasks is not available in this environment")
    from core.db import db_session
    from core.testing import make_user
    from crm_contacts.models import Client

    app = crm_app_factory(["crm_contracts", "crm_tasks"])
    make_user(app, "georgi", groups=("sales_manager",))
    with app.app_context():
        client = Client(name="Bioprom")
        db_session.add(client)
        db_session.commit()
        client_id = client.id
    contract_id = _create(app, client_id)
    with app.test_request_context():
        offers = [
            item
            for module, item in collect(
                current_state().pm, "crm_tasks_completion_links", {}, task=_task(client_id)
            )
            if module == "crm_contracts"
        ]
    assert [o["record_id"] for o in offers] == [contract_id]
