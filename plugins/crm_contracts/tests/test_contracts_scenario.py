"""The issue's "done when", end to end through the real stack with only crm_contacts and
crm_contracts installed: a contract signed today, valid for a year, 5 % on one product group, is
active on the client's file with that condition; 20 days before its end it is listed as expiring
and its representative is notified (once); terminated early, it stops contributing its discount
from that date."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from core.cli import main as crm
from core.db import db_session
from core.models import Notification
from core.pricing import Adjustment, PricingContext
from core.state import current_state
from core.testing import form_fields, installed, logged_in
from crm_contracts.models import Contract, Reminder
from crm_contracts.pricing import KIND, evaluate, prepare

TODAY = date(2026, 12, 1)  # the conftest's clock


def context(client_id: int, on, *, product="MLK-1L", groups=("DAIRY", "FOOD")) -> PricingContext:
    return PricingContext(
        client_id=client_id,
        customer_group_id=None,
        product_id=1,
        product_code=product,
        product_group_ids=tuple(range(1, len(groups) + 1)),
        product_group_codes=groups,
        quantity=Decimal("10"),
        on=on,
        payment_days=None,
        list_price=Decimal("2.00"),
        currency="EUR",
        turnover=lambda *args, **kwargs: Decimal("0"),
    )


def price_rule(app, client_id: int, on) -> Adjustment | str:
    """The kind as the pricing engine calls it: prepare once, then evaluate."""
    with app.app_context():
        prepared = prepare(db_session, (client_id,), on)
        return evaluate(context(client_id, on), {"_prepared": prepared})


def test_a_contract_from_signature_to_early_termination(app, clock):
    assert installed(app) == ["crm_contacts", "crm_contracts"]
    ids = app.ids
    georgi = logged_in(app, "georgi")
    end = TODAY + timedelta(days=364)

    # Signed today, valid for a year.
    new = f"/contracts/new/{ids.bioprom}"
    form = form_fields(georgi.get(new).text, action=new)
    answer = georgi.post(
        new,
        data={
            **form,
            "title": "Supply of dairy products",
            "signed_on": TODAY.isoformat(),
            "valid_from": TODAY.isoformat(),
            "valid_to": end.isoformat(),
            "value": "120000.00",
            "responsible_id": str(ids.maria),
        },
    )
    assert answer.status_code == 302, answer.text
    url = answer.headers["Location"]
    contract_id = int(url.rstrip("/").rsplit("/", 1)[-1])

    # 5 % on one product group.
    add = f"/contracts/{contract_id}/conditions/new"
    form = form_fields(georgi.get(add + "?kind=discount").text, action=add)
    answer = georgi.post(
        add,
        data={**form, "kind": "discount", "group_code": "DAIRY", "group_name": "Dairy products",
              "discount_percent": "5"},
    )  # fmt: skip
    assert answer.status_code == 302, answer.text

    # The client's file shows it as active, with the condition.
    maria = logged_in(app, "maria")
    page = maria.get(f"/contacts/clients/{ids.bioprom}").text
    assert 'data-section="crm_contracts.contracts"' in page
    section = page.split('data-section="crm_contracts.contracts"')[1].split("</section>")[0]
    assert 'data-status="active"' in section
    assert "DAIRY" in section and "5.00 % discount" in section
    assert f"{TODAY.isoformat()} – {end.isoformat()}" in section

    # The discount reaches pricing for a product of that group (or of a subgroup of it).
    applied = price_rule(app, ids.bioprom, TODAY + timedelta(days=30))
    assert isinstance(applied, Adjustment)
    assert applied.discount_percent == Decimal("5.00")
    assert "5 % on Dairy products" in applied.reason

    # 20 days before its end: listed as expiring, and its representative is notified, once.
    clock.move_to(end - timedelta(days=20))
    georgi = logged_in(app, "georgi")  # a session of a year ago has expired
    listed = georgi.get("/contracts/?status=expiring").text
    assert f'data-contract="{contract_id}"' in listed
    dashboard = georgi.get("/contracts/expiring").text
    assert f'data-contract="{contract_id}"' in dashboard
    runner = app.test_cli_runner()
    result = runner.invoke(crm, ["contracts", "remind"])
    assert result.exit_code == 0, result.output
    assert "1 reminders sent" in result.output
    with app.app_context():
        notes = db_session.scalars(
            select(Notification).where(Notification.user_id == ids.maria)
        ).all()
        assert [n.url for n in notes] == [f"/contracts/{contract_id}"]
        assert "ends on" in notes[0].text and "Bioprom" in notes[0].text
    again = runner.invoke(crm, ["contracts", "remind"])
    assert "0 reminders sent" in again.output
    with app.app_context():
        assert db_session.scalar(select(Reminder.user_id)) == ids.maria

    # Terminated early, as of 60 days before its end: its discount stops from that date.
    clock.move_to(end - timedelta(days=70))
    georgi = logged_in(app, "georgi")
    stop = end - timedelta(days=60)
    terminate = f"/contracts/{contract_id}/terminate"
    form = form_fields(georgi.get(terminate).text, action=terminate)
    answer = georgi.post(
        terminate,
        data={**form, "terminated_on": stop.isoformat(), "termination_reason": "Shop closed."},
    )
    assert answer.status_code == 302, answer.text
    before = price_rule(app, ids.bioprom, stop - timedelta(days=1))
    assert isinstance(before, Adjustment) and before.discount_percent == Decimal("5.00")
    on_the_day = price_rule(app, ids.bioprom, stop)
    assert isinstance(on_the_day, str)
    assert isinstance(price_rule(app, ids.bioprom, stop + timedelta(days=30)), str)

    # Still in force until then (ending within the window: expiring); terminated from that day.
    with app.app_context():
        assert db_session.get(Contract, contract_id).status == "expiring"
    clock.move_to(stop)
    with app.app_context():
        assert db_session.get(Contract, contract_id).status == "terminated"
    maria = logged_in(app, "maria")
    page = maria.get(f"/contacts/clients/{ids.bioprom}").text
    section = page.split('data-section="crm_contracts.contracts"')[1].split("</section>")[0]
    assert f'data-contract="{contract_id}"' not in section
    assert 'data-earlier="terminated"' in section


def test_the_rule_kind_is_automatic_and_declared_to_the_core(app):

    with app.test_request_context():
        kinds = {k.name: k for k in current_state().pricing_rule_kinds}
    kind = kinds[KIND]
    assert kind.automatic and kind.prepare is prepare and kind.module == "crm_contracts"
    assert kind.schema().load({}) == {}
