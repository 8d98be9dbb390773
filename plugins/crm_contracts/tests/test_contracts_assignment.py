"""Work assigned is workable (issue 13, point 5): a representative made responsible for a
contract's renewal opens it from her notification and renews it; representatives prepare the
renewal of the contracts they see (a draft that a manager signs); the assignee picker offers, and
the assignment accepts, only users who may renew."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from test_contracts_pages import TODAY, add_contract

from core.db import db_session
from core.models import Notification
from core.testing import form_fields, logged_in, make_user
from crm_contracts.models import Contract


def assign(app, contract_id: int, user_id: int, georgi=None):
    georgi = georgi or logged_in(app, "georgi")
    url = f"/contracts/{contract_id}/assign"
    form = form_fields(georgi.get("/contracts/expiring").text, action=url)
    return georgi.post(url, data={**form, "responsible_id": str(user_id)})


def test_the_assignee_opens_the_contract_from_her_notification_and_renews_it(app):
    contract_id = add_contract(app, app.ids.bioprom, start=TODAY - timedelta(days=330))
    peter = logged_in(app, "peter")
    # Before: Bioprom is maria's client; peter sees neither it nor its contract.
    assert peter.get(f"/contracts/{contract_id}").status_code == 404

    assert assign(app, contract_id, app.ids.peter).status_code == 302
    with app.app_context():
        note = db_session.scalars(select(Notification)).one()
        url = note.url
        assert "Bioprom" in note.text  # the notification names the client
    page = peter.get(url)
    assert page.status_code == 200
    assert "Bioprom" in page.text and "DAIRY" in page.text  # the contract names its client
    # The contract, not the client's file: that stays maria's (a grant of the client through
    # the contract made every representative's statement pay for it, see the closing note).
    assert peter.get(f"/contacts/clients/{app.ids.bioprom}").status_code == 404
    listed = peter.get("/api/v1/contracts").get_json()
    assert [c["id"] for c in listed["items"]] == [contract_id]
    assert "Bioprom" in peter.get("/contracts/").text
    assert "Bioprom" in peter.get("/contracts/expiring").text

    # Handed back to maria: the contract is no longer his to open; handed to him again...
    assert assign(app, contract_id, app.ids.maria).status_code == 302
    assert peter.get(f"/contracts/{contract_id}").status_code == 404
    assert assign(app, contract_id, app.ids.peter).status_code == 302

    # ...he prepares the renewal he was asked for: a draft, his too.
    renew = f"/contracts/{contract_id}/renew"
    answer = peter.post(renew, data=form_fields(peter.get(renew).text, action=renew))
    assert answer.status_code == 302, answer.text
    assert peter.get(answer.headers["Location"]).status_code == 200


def test_a_representative_prepares_a_renewal_that_a_manager_signs(app):
    contract_id = add_contract(app, app.ids.bioprom, start=TODAY - timedelta(days=330))
    foreign = add_contract(app, app.ids.agrotech, start=TODAY - timedelta(days=330))
    maria = logged_in(app, "maria")
    detail = maria.get(f"/contracts/{contract_id}").text
    assert f"/contracts/{contract_id}/renew" in detail
    assert f"/contracts/{contract_id}/edit" not in detail  # editing stays with managers

    url = f"/contracts/{contract_id}/renew"
    answer = maria.post(url, data=form_fields(maria.get(url).text, action=url))
    assert answer.status_code == 302
    assert (
        "a sales manager or the back office checks and signs"
        in maria.get(answer.headers["Location"]).text
    )
    with app.app_context():
        successor = db_session.scalars(
            select(Contract).where(Contract.predecessor_id == contract_id)
        ).one()
        assert successor.signed_on is None  # a draft
        successor_id = successor.id
    # She may not sign it herself; the manager does.
    assert maria.get(f"/contracts/{successor_id}/edit").status_code == 403
    assert logged_in(app, "georgi").get(f"/contracts/{successor_id}/edit").status_code == 200
    # Another representative's client's contract stays out of her reach.
    assert maria.get(f"/contracts/{foreign}/renew").status_code == 404
    assert maria.post(f"/api/v1/contracts/{foreign}/renew", json={}).status_code == 404


def test_the_assignee_picker_and_the_assignment_accept_only_users_who_may_renew(app):
    contract_id = add_contract(app, app.ids.bioprom, start=TODAY - timedelta(days=330))
    olga = make_user(app, "olga", groups=())  # may log in, has no contract permission
    georgi = logged_in(app, "georgi")
    offered = georgi.get("/api/v1/lookup/core_user?permission=crm_contracts.renew&limit=50")
    ids = {item["id"] for item in offered.get_json()["items"]}
    assert {app.ids.maria, app.ids.peter, app.ids.georgi} <= ids
    assert olga not in ids
    page = georgi.get("/contracts/expiring").text
    assert "crm_contracts.renew" in page  # the dashboard's picker asks for exactly those

    refused = assign(app, contract_id, olga, georgi)
    assert refused.status_code == 302
    assert "who may renew contracts" in georgi.get(refused.headers["Location"]).text
    with app.app_context():
        assert db_session.get(Contract, contract_id).responsible_id is None
