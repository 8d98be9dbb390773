"""crm_contracts' pages: statuses from dates and acts, numbering, the list and its filters, the
dashboard, renewing, deleting drafts, locking, history, record rules, the client file section,
settings, demo data and uninstalling."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from core.cli import main as crm
from core.db import db_session, make_engine
from core.state import current_state
from core.testing import form_fields, logged_in, make_user
from crm_contracts.models import Condition, Contract, Settings
from crm_contracts.numbering import next_number

TODAY = date(2026, 12, 1)


def add_contract(app, client_id: int, *, signed=True, start=TODAY, days=364, **extra) -> int:
    """A contract written directly (numbered like any other), with a 5 % group discount."""
    with app.app_context():
        contract = Contract(
            number=next_number(db_session),
            client_id=client_id,
            title=extra.pop("title", "Supply"),
            signed_on=start if signed else None,
            valid_from=start,
            valid_to=None if days is None else start + timedelta(days=days),
            **extra,
        )
        contract.conditions = [
            Condition(kind="discount", group_code="DAIRY", discount_percent=Decimal("5"))
        ]
        db_session.add(contract)
        db_session.commit()
        return contract.id


def status_of(app, contract_id: int) -> str:
    with app.app_context():
        return db_session.scalar(select(Contract.status).where(Contract.id == contract_id))


def test_status_follows_dates_and_acts(app, clock):
    ids = app.ids
    draft = add_contract(app, ids.bioprom, signed=False)
    upcoming = add_contract(app, ids.bioprom, start=TODAY + timedelta(days=10))
    active = add_contract(app, ids.bioprom)
    expiring = add_contract(app, ids.bioprom, start=TODAY - timedelta(days=350))
    expired = add_contract(app, ids.bioprom, start=TODAY - timedelta(days=400))
    open_ended = add_contract(app, ids.bioprom, days=None)
    terminated = add_contract(app, ids.bioprom, terminated_on=TODAY, termination_reason="x")
    announced = add_contract(app, ids.bioprom, days=None, terminated_on=TODAY + timedelta(days=90))
    assert {
        name: status_of(app, contract_id)
        for name, contract_id in [
            ("draft", draft), ("upcoming", upcoming), ("active", active),
            ("expiring", expiring), ("expired", expired), ("open_ended", open_ended),
            ("terminated", terminated), ("announced", announced),
        ]
    } == {
        "draft": "draft", "upcoming": "upcoming", "active": "active", "expiring": "expiring",
        "expired": "expired", "open_ended": "active", "terminated": "terminated",
        "announced": "active",
    }  # fmt: skip
    # The expiring window is a setting.
    with app.app_context():
        db_session.get(Settings, 1).expiring_days = 400
        db_session.commit()
    assert status_of(app, active) == "expiring"
    assert status_of(app, announced) == "expiring"
    # And the date is the clock's, not the database's.
    clock.move_to(TODAY + timedelta(days=500))
    assert status_of(app, active) == "expired"


def test_numbers_come_from_a_configurable_sequence_per_year(app, clock):
    with app.app_context():
        assert next_number(db_session) == "C-2026-0001"
        assert next_number(db_session) == "C-2026-0002"
        settings = db_session.get(Settings, 1)
        settings.number_prefix, settings.number_digits = "SUP/", 6
        db_session.commit()
        assert next_number(db_session) == "SUP/2026-000001"
    clock.move_to(date(2027, 1, 2))
    with app.app_context():
        assert next_number(db_session) == "SUP/2027-000001"
        db_session.commit()


def test_two_sessions_allocating_at_once_never_get_the_same_number(app):
    url = app.config["DATABASE_URL"]
    numbers: list[str] = []
    errors: list[BaseException] = []

    def allocate() -> None:
        engine = make_engine(url)
        try:
            from sqlalchemy.orm import Session

            for _ in range(10):
                with Session(engine) as session:
                    numbers.append(next_number(session))
                    session.commit()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            engine.dispose()

    with app.app_context():
        threads = [threading.Thread(target=allocate) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not errors
    assert len(numbers) == 30 and len(set(numbers)) == 30


def test_the_list_filters_by_status_client_type_and_end(app, clock):
    ids = app.ids
    active = add_contract(app, ids.bioprom, title="Active one")
    soon = add_contract(app, ids.agrotech, start=TODAY - timedelta(days=350), title="Soon")
    add_contract(app, ids.bioprom, start=TODAY - timedelta(days=400), title="Old")
    georgi = logged_in(app, "georgi")
    page = georgi.get("/contracts/").text
    assert 'data-testid="total">3<' in page
    page = georgi.get("/contracts/?status=expiring").text
    assert f'data-contract="{soon}"' in page and f'data-contract="{active}"' not in page
    page = georgi.get(f"/contracts/?client={ids.bioprom}").text
    assert "Contracts of Bioprom" in page and 'data-testid="total">2<' in page
    page = georgi.get("/contracts/?within=60").text
    assert f'data-contract="{soon}"' in page and f'data-contract="{active}"' not in page
    page = georgi.get("/contracts/?q=activ").text
    assert 'data-testid="total">1<' in page
    page = georgi.get("/contracts/?status=renewed").text
    assert 'data-testid="no-match"' in page
    with app.app_context():
        db_session.get(Contract, soon).responsible_id = ids.peter
        db_session.commit()
    page = georgi.get(f"/contracts/?rep={ids.peter}").text
    assert 'data-testid="total">1<' in page and f'data-contract="{soon}"' in page


def test_the_list_paginates_with_a_bounded_number_of_queries(app, count_queries):
    for _ in range(3):
        add_contract(app, app.ids.bioprom)
    georgi = logged_in(app, "georgi")
    with count_queries(app) as few:
        georgi.get("/contracts/")
    with app.app_context():
        for i in range(60):
            db_session.add(
                Contract(number=f"X-{i}", client_id=app.ids.agrotech, title="Bulk",
                         valid_from=TODAY, signed_on=TODAY)
            )  # fmt: skip
        db_session.commit()
    with count_queries(app) as many:
        page = georgi.get("/contracts/?page=2").text
    assert len(many) == len(few)
    assert 'data-testid="pages"' in page and 'data-testid="total">63<' in page


def test_an_empty_list_says_so(app):
    page = logged_in(app, "georgi").get("/contracts/").text
    assert 'data-testid="empty"' in page and "Record the first one" in page


def test_the_dashboard_shows_contracts_ending_within_30_60_and_90_days(app):
    ids = app.ids
    in_20 = add_contract(app, ids.bioprom, start=TODAY - timedelta(days=344))
    in_45 = add_contract(app, ids.bioprom, start=TODAY - timedelta(days=319))
    in_80 = add_contract(app, ids.agrotech, start=TODAY - timedelta(days=284))
    add_contract(app, ids.agrotech)  # a year away
    renewed = add_contract(app, ids.agrotech, start=TODAY - timedelta(days=344))
    with app.app_context():
        db_session.get(Contract, renewed).successor_id = in_80
        db_session.commit()
    page = logged_in(app, "georgi").get("/contracts/expiring").text
    assert 'data-count="30">1<' in page and 'data-count="60">1<' in page
    assert 'data-count="90">1<' in page
    sections = {days: page.split(f'data-period="{days}"')[1].split("</section>")[0]
                for days in (30, 60, 90)}  # fmt: skip
    assert f'data-contract="{in_20}"' in sections[30]
    assert f'data-contract="{in_45}"' in sections[60]
    assert f'data-contract="{in_80}"' in sections[90]
    assert f'data-contract="{renewed}"' not in page
    assert "Renew" in page  # a manager may write


def test_a_representatives_dashboard_counts_what_it_lists(app):
    """Counts obey the record rules like the rows do: Maria's 2 contracts ending within 30 days
    are counted 2, not 6 with Peter's 4."""
    ids = app.ids
    mine = [add_contract(app, ids.bioprom, start=TODAY - timedelta(days=344)) for _ in range(2)]
    for _ in range(4):
        add_contract(app, ids.agrotech, start=TODAY - timedelta(days=344))
    page = logged_in(app, "maria").get("/contracts/expiring").text
    section = page.split('data-period="30"')[1].split("</section>")[0]
    assert 'data-count="30">2<' in page
    assert section.count("data-contract=") == 2
    assert all(f'data-contract="{c}"' in section for c in mine)
    assert 'data-count="30">6<' in logged_in(app, "georgi").get("/contracts/expiring").text


def test_renewing_creates_a_linked_draft_successor_with_the_conditions(app):
    contract_id = add_contract(app, app.ids.bioprom, start=TODAY - timedelta(days=340))
    georgi = logged_in(app, "georgi")
    url = f"/contracts/{contract_id}/renew"
    page = georgi.get(url).text
    form = form_fields(page, action=url)
    assert form["valid_from"] == (TODAY + timedelta(days=25)).isoformat()
    answer = georgi.post(url, data=form)
    assert answer.status_code == 302, answer.text
    successor_id = int(answer.headers["Location"].rsplit("/", 1)[-1])
    with app.app_context():
        old, new = db_session.get(Contract, contract_id), db_session.get(Contract, successor_id)
        assert old.successor_id == new.id and new.predecessor_id == old.id
        assert old.status == "renewed" and new.status == "draft"
        old_version = old.version
        assert [(c.group_code, c.discount_percent, c.valid_from) for c in new.conditions] == [
            ("DAIRY", Decimal("5.00"), None)
        ]
    page = georgi.get(f"/contracts/{contract_id}").text
    assert f"/contracts/{successor_id}" in page and "Renewed by" in page
    # Still in force until its end: the client file shows it, with its conditions.
    section = georgi.get(f"/contacts/clients/{app.ids.bioprom}").text.split(
        'data-section="crm_contracts.contracts"'
    )[1]
    assert f'data-contract="{contract_id}"' in section and "DAIRY" in section
    again = georgi.post(url, data={**form, "version": str(old_version)})
    assert again.status_code == 400 and "renewed already" in again.text


def test_renewal_must_start_after_the_contract_ends(app):
    contract_id = add_contract(app, app.ids.bioprom)
    georgi = logged_in(app, "georgi")
    url = f"/contracts/{contract_id}/renew"
    form = form_fields(georgi.get(url).text, action=url)
    answer = georgi.post(url, data={**form, "valid_from": TODAY.isoformat()})
    assert answer.status_code == 400 and 'data-error="valid_from"' in answer.text


def test_only_a_draft_can_be_deleted_and_only_after_confirming(app):
    draft = add_contract(app, app.ids.bioprom, signed=False)
    signed = add_contract(app, app.ids.bioprom)
    georgi = logged_in(app, "georgi")
    page = georgi.get(f"/contracts/{draft}/delete").text
    assert "Yes, delete" in page
    with app.app_context():
        version = db_session.get(Contract, draft).version
    answer = georgi.post(f"/contracts/{draft}/delete", data={"version": version})
    assert answer.status_code == 302
    assert georgi.get(f"/contracts/{draft}").status_code == 404
    answer = georgi.get(f"/contracts/{signed}/delete")
    assert answer.status_code == 302 and georgi.get(f"/contracts/{signed}").status_code == 200


def test_a_stale_edit_answers_409_and_changes_nothing(app):
    contract_id = add_contract(app, app.ids.bioprom)
    georgi = logged_in(app, "georgi")
    url = f"/contracts/{contract_id}/edit"
    form = form_fields(georgi.get(url).text, action=url)
    assert georgi.post(url, data={**form, "title": "First"}).status_code == 302
    answer = georgi.post(url, data={**form, "title": "Second"})
    assert answer.status_code == 409
    with app.app_context():
        assert db_session.get(Contract, contract_id).title == "First"
    # A condition form opened before the contract changed is stale too.
    add = f"/contracts/{contract_id}/conditions/new"
    stale = form_fields(georgi.get(add).text, action=add)
    georgi.post(url, data={**form_fields(georgi.get(url).text, action=url), "title": "Third"})
    answer = georgi.post(add, data={**stale, "group_code": "X", "discount_percent": "1"})
    assert answer.status_code == 409


def test_the_contract_page_shows_its_history_and_documents(app):
    contract_id = add_contract(app, app.ids.bioprom)
    georgi = logged_in(app, "georgi")
    url = f"/contracts/{contract_id}/edit"
    form = form_fields(georgi.get(url).text, action=url)
    georgi.post(url, data={**form, "title": "Renamed"})
    page = georgi.get(f"/contracts/{contract_id}").text
    assert "Renamed" in page and "History of changes" in page and "Supply" in page
    upload = f"/attachments/crm_contracts_contract/{contract_id}"
    answer = georgi.post(
        upload,
        data={"file": (__import__("io").BytesIO(b"%PDF signed"), "signed.pdf"),
              "next": f"/contracts/{contract_id}"},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert answer.status_code == 302
    page = georgi.get(f"/contracts/{contract_id}").text
    assert "signed.pdf" in page
    # A representative reads it but does not upload.
    maria_page = logged_in(app, "maria").get(f"/contracts/{contract_id}").text
    assert "signed.pdf" in maria_page and 'type="file"' not in maria_page


def test_a_representative_sees_only_the_contracts_of_their_clients(app):
    mine = add_contract(app, app.ids.bioprom)
    theirs = add_contract(app, app.ids.agrotech)
    maria = logged_in(app, "maria")
    page = maria.get("/contracts/").text
    assert f'data-contract="{mine}"' in page and f'data-contract="{theirs}"' not in page
    assert maria.get(f"/contracts/{theirs}").status_code == 404
    assert maria.get(f"/api/v1/contracts/{theirs}").status_code == 404
    items = maria.get("/api/v1/contracts").get_json()["items"]
    assert [c["id"] for c in items] == [mine]
    assert maria.get(f"/contracts/{mine}/edit").status_code == 403  # reps read only
    hits = maria.get("/search?q=supply").text
    assert f"/contracts/{mine}" in hits and f"/contracts/{theirs}" not in hits


def test_the_client_file_section_costs_the_same_queries_for_many_contracts(app, count_queries):
    add_contract(app, app.ids.bioprom)
    maria = logged_in(app, "maria")
    url = f"/contacts/clients/{app.ids.bioprom}"
    maria.get(url)
    with count_queries(app) as one:
        maria.get(url)
    for start in range(30):
        add_contract(app, app.ids.bioprom, start=TODAY - timedelta(days=start * 40))
    with count_queries(app) as many:
        page = maria.get(url).text
    assert len(many) == len(one)
    assert 'data-earlier="expired"' in page


def test_the_section_says_when_there_is_no_contract(app):
    page = logged_in(app, "georgi").get(f"/contacts/clients/{app.ids.bioprom}").text
    section = page.split('data-section="crm_contracts.contracts"')[1].split("</section>")[0]
    assert "No contract in force." in section
    assert f"/contracts/new/{app.ids.bioprom}" in section


def test_choosing_the_client_of_a_new_contract(app):
    georgi = logged_in(app, "georgi")
    page = georgi.get("/contracts/new?q=biop").text
    assert f"/contracts/new/{app.ids.bioprom}" in page and "Agrotech" not in page


def test_settings_and_contract_types(app):
    make_user(app, "root", groups=("admin",))
    georgi = logged_in(app, "georgi")
    url = "/contracts/settings"
    page = georgi.get(url).text
    assert "Framework agreement" in page and "Distribution" in page
    form = form_fields(page, action=url)
    answer = georgi.post(url, data={**form, "expiring_days": "0"})
    assert answer.status_code == 400 and 'data-error="expiring_days"' in answer.text
    answer = georgi.post(url, data={**form, "number_prefix": "K-", "expiring_days": "45"})
    assert answer.status_code == 302
    with app.app_context():
        assert db_session.get(Settings, 1).expiring_days == 45
    answer = georgi.post(
        "/contracts/settings/types/new", data={"code": "lease", "name": "Lease", "order": ""}
    )
    assert answer.status_code == 302
    answer = georgi.post(
        "/contracts/settings/types/new", data={"code": "lease", "name": "Again", "order": "1"}
    )
    assert answer.status_code == 400 and "Another type has this code" in answer.text
    assert logged_in(app, "maria").get(url).status_code == 403


def test_demo_data_and_remind_and_uninstall(app):
    from core.modules import uninstall

    runner = app.test_cli_runner()
    result = runner.invoke(crm, ["demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        statuses = set(db_session.scalars(select(Contract.status)))
        assert {"active", "expiring", "expired", "terminated", "renewed", "draft"} <= statuses
        assert db_session.scalar(select(Condition.id).limit(1)) is not None
    with app.app_context():
        count = db_session.scalar(select(func.count(Contract.id)))
    assert runner.invoke(crm, ["demo"]).exit_code == 0
    with app.app_context():
        assert db_session.scalar(select(func.count(Contract.id))) == count  # added once
    result = runner.invoke(crm, ["contracts", "remind"])
    assert result.exit_code == 0 and "reminders sent" in result.output
    assert logged_in(app, "georgi").get("/contracts/expiring").status_code == 200
    crm_state = app.extensions["crm"]
    uninstall(crm_state.engine, crm_state.plugins, "crm_contracts")
    make_user(app, "root", groups=("admin",))
    assert logged_in(app, "root").get("/contracts/").status_code == 404


def test_the_dashboard_costs_the_same_queries_for_many_contracts(app, count_queries):
    add_contract(app, app.ids.bioprom, start=TODAY - timedelta(days=344))
    georgi = logged_in(app, "georgi")
    georgi.get("/contracts/expiring")
    with count_queries(app) as one:
        georgi.get("/contracts/expiring")
    for days in range(40):
        add_contract(app, app.ids.agrotech, start=TODAY - timedelta(days=280 + days * 2))
    with count_queries(app) as many:
        georgi.get("/contracts/expiring")
    assert len(many) == len(one)


def test_the_manager_assigns_a_renewal_from_the_dashboard(app):
    from core.models import Notification

    contract_id = add_contract(app, app.ids.bioprom, start=TODAY - timedelta(days=330))
    georgi = logged_in(app, "georgi")
    page = georgi.get("/contracts/expiring").text
    url = f"/contracts/{contract_id}/assign"
    form = form_fields(page, action=url)
    answer = georgi.post(url, data={**form, "responsible_id": str(app.ids.peter)})
    assert answer.status_code == 302
    with app.app_context():
        assert db_session.get(Contract, contract_id).responsible_id == app.ids.peter
        note = db_session.scalars(select(Notification)).one()
        assert note.user_id == app.ids.peter and "asked you to renew" in note.text
    stale = georgi.post(url, data={**form, "responsible_id": str(app.ids.maria)})
    assert stale.status_code == 409
    assert logged_in(app, "maria").post(url, data=form).status_code == 403


def test_deleting_a_type_asks_first_and_leaves_its_contracts_without_one(app):
    contract_id = add_contract(app, app.ids.bioprom, type_id=1)
    georgi = logged_in(app, "georgi")
    page = georgi.get("/contracts/settings/types/1/delete").text
    assert "1 contract(s) have this type" in page
    deleting = georgi.post("/contracts/settings/types/1/delete", data={"version": "1"})
    assert deleting.status_code == 302
    with app.app_context():
        assert db_session.get(Contract, contract_id).type_id is None


def test_forms_need_the_csrf_token(crm_app_factory, clock):
    import re

    from core.testing import TEST_PASSWORD
    from crm_contacts.models import Client

    app = crm_app_factory(["crm_contracts"], config={"WTF_CSRF_ENABLED": True})
    make_user(app, "georgi", groups=("sales_manager",))
    with app.app_context():
        client = Client(name="Bioprom")
        db_session.add(client)
        db_session.commit()
        url = f"/contracts/new/{client.id}"
    http = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', http.get("/login").text).group(1)
    http.post("/login", data={"login": "georgi", "password": TEST_PASSWORD, "csrf_token": token})
    page = http.get(url).text
    fields = {**form_fields(page, action=url), "title": "Supply", "valid_from": "2026-12-01"}
    assert http.post(url, data=fields).status_code == 400
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert http.post(url, data={**fields, "csrf_token": token}).status_code == 302


def test_today_is_the_installations_date_not_the_servers(crm_app_factory, clock):
    from datetime import UTC, datetime

    from crm_contacts.models import Client

    clock.move_to(datetime(2026, 12, 31, 20, 0, tzinfo=UTC))  # already 2027 in Kiritimati
    app = crm_app_factory(["crm_contracts"], config={"TIMEZONE": "Pacific/Kiritimati"})
    with app.app_context():
        client = Client(name="Bioprom")
        db_session.add(client)
        db_session.flush()
        contract = Contract(
            number=next_number(db_session), client_id=client.id, title="T",
            signed_on=date(2026, 1, 1), valid_from=date(2026, 1, 1), valid_to=date(2026, 12, 31),
        )  # fmt: skip
        db_session.add(contract)
        db_session.commit()
        assert contract.number == "C-2027-0001"
        assert db_session.scalar(select(Contract.status)) == "expired"


def test_remind_once_per_end_date_and_again_after_an_extension(app, clock):
    from core.models import Notification

    contract_id = add_contract(app, app.ids.agrotech, start=TODAY - timedelta(days=350))
    runner = app.test_cli_runner()
    assert "1 reminders sent" in runner.invoke(crm, ["contracts", "remind"]).output
    assert "0 reminders sent" in runner.invoke(crm, ["contracts", "remind"]).output
    with app.app_context():
        contract = db_session.get(Contract, contract_id)
        contract.valid_to = contract.valid_to + timedelta(days=100)
        db_session.commit()
    assert "0 reminders sent" in runner.invoke(crm, ["contracts", "remind"]).output
    clock.move_to(TODAY + timedelta(days=100))
    assert "1 reminders sent" in runner.invoke(crm, ["contracts", "remind"]).output
    with app.app_context():
        # No responsible on the contract: the client's representative is told.
        users = db_session.scalars(select(Notification.user_id)).all()
        assert users == [app.ids.peter, app.ids.peter]


def test_report_definitions_name_fields_of_the_registered_model(app):
    from sqlalchemy import func as sql

    add_contract(app, app.ids.bioprom, value=Decimal("100.00"))
    add_contract(app, app.ids.bioprom, signed=False, value=Decimal("50.00"))
    with app.test_request_context():
        state = current_state()
        reports = [r for r in state.reports if r.module == "crm_contracts"]
        assert {r.title for r in reports} == {
            "Contracts by status and type", "Expiring contracts", "Contract value by client",
            "Contracts expiring by month (next 12 months)",
        }  # fmt: skip
        for report in reports:
            if report.spec is not None:
                continue  # a spec: checked against the registry when the state was built
            fields = {f.name for f in state.models.get(report.model).fields}
            used = {*report.columns, *report.filters, *report.group_by, *report.aggregates}
            assert used <= fields, report.id
        # The status is a column like the others: it groups in SQL.
        rows = db_session.execute(
            select(Contract.status, sql.count(Contract.id), sql.sum(Contract.value))
            .group_by(Contract.status)
            .order_by(Contract.status)
        ).all()
        assert rows == [("active", 1, Decimal("100.00")), ("draft", 1, Decimal("50.00"))]


def test_reminders_come_from_the_worker_every_morning_without_a_crontab(app, clock):
    from core.jobs import run_queued, tick
    from core.models import Notification

    add_contract(app, app.ids.agrotech, start=TODAY - timedelta(days=350))
    tick(app)  # 09:00: the morning's reminders are past for today
    run_queued(app)
    clock.move_to(datetime(2026, 12, 2, 7, 0, 30, tzinfo=UTC))
    tick(app)
    tick(app)  # another worker's tick: still one job
    run_queued(app)
    clock.move_to(datetime(2026, 12, 2, 8, 0, 30, tzinfo=UTC))
    tick(app)
    run_queued(app)
    with app.app_context():
        texts = db_session.scalars(select(Notification.text)).all()
    assert len(texts) == 1 and texts[0].startswith("Contract ") and "ends on" in texts[0]
