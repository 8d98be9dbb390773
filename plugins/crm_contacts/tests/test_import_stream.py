"""crm_contacts: the import read as a stream and checked in chunks (``run_import``): the same
result in chunks of two clients as in one, with the validation in other processes as in this one;
all or nothing across chunks; a file checked again costs no validation of what it repeats."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select
from test_import import BIOPROM, HEADER, VALID, row

from core.db import db_session
from core.testing import make_user
from crm_contacts.importing import run_import
from crm_contacts.models import Client, Person, Phone
from tests.helpers import run_cli

# A file with what checking has to get right across chunks: a client whose rows are far apart
# (Bioprom: rows 2 and 9), a row without a VAT number joining its client by name (row 8), errors
# (rows 5 and 7), possible duplicates (rows 3/6), and a client of one row.
MIXED = (
    HEADER
    + "\n"
    + row(**BIOPROM, person_name="Ivan Petrov", person_phone="0888 123 456")
    + row(name="Petrov Trading", vat_number="BG131071587", city="Sofia")
    + row(name="Agro Plus", vat_number="BG155677006", phone="+359 2 856 8181")
    + row(name="Broken Phone", vat_number="BG221553981", phone="12")
    + row(name="Petrov Tradng", vat_number="BG538248859", city="Sofia")
    + row(name="Bad Group", customer_group="Nobody", vat_number="BG271373719")
    + row(name="Agro Plus", person_name="Maria Ilieva", person_email="maria@agro.bg")
    + row(**BIOPROM, person_name="Elena Ivanova", person_phone="+359 87 234 5678")
    + row(name="Ivan Georgiev", kind="individual", city="Ruse")
)  # fmt: skip


@pytest.fixture
def app(crm_app_factory):
    app = crm_app_factory(["crm_contacts"])
    make_user(app, "maria", groups=("sales_rep",))
    make_user(app, "peter", groups=("sales_rep",))
    return app


def _outcome(plan) -> tuple:
    return (
        plan.rows,
        plan.created,
        plan.updated,
        plan.unchanged,
        [str(e) for e in plan.errors],
        [str(w) for w in plan.warnings],
        [(p.row, p.action, p.notes) for p in plan.preview],
    )


def test_chunks_and_processes_give_the_result_of_one_pass(app):
    with app.app_context():
        whole = _outcome(run_import(db_session, MIXED, processes=0))
        assert whole[1:4] == (5, 0, 0), whole
        assert whole[4] == [
            "row 5, phone: Not a valid phone number for BG; write it with the country code, e.g. "
            "+359 2 123 4567.",
            "row 7, customer_group: No customer group is named “Nobody”.",
        ]
        assert any(w.startswith("row 6: Possible duplicate of Petrov Trading") for w in whole[5])
        for chunk, processes in ((2, 0), (1, 2), (3, 2)):
            plan = run_import(db_session, MIXED.encode(), processes=processes, chunk=chunk)
            assert _outcome(plan) == whole, (chunk, processes)
        db_session.rollback()


def test_an_error_in_a_later_chunk_leaves_nothing_written(app, tmp_path):
    bad = VALID + row(name="Late Error", vat_number="BG999999999")
    with app.app_context():
        plan = run_import(db_session, io.BytesIO(bad.encode()), write=True, chunk=1)
        assert not plan.valid and [str(e) for e in plan.errors] == [
            "row 6, vat_number: Not a valid VAT number for BG."
        ]
        db_session.rollback()
        assert db_session.scalar(select(func.count()).select_from(Client)) == 0
    path = tmp_path / "bad.csv"
    path.write_text(bad, encoding="utf-8")
    result = run_cli(app, "contacts", "import", str(path))
    assert result.exit_code == 1 and "row 6, vat_number" in result.output
    with app.app_context():
        assert db_session.scalar(select(func.count()).select_from(Client)) == 0


def test_written_in_chunks_then_checked_again_as_unchanged(app):
    with app.app_context():
        plan = run_import(db_session, io.BytesIO(VALID.encode()), write=True, chunk=1)
        assert plan.valid and (plan.created, plan.persons_added) == (3, 3)
        db_session.commit()
        ids = db_session.scalars(select(Client.id).order_by(Client.id)).all()
        persons = db_session.execute(select(Person.client_id, Person.name)).all()
        assert sorted(persons) == sorted(
            [(ids[0], "Ivan Petrov"), (ids[0], "Elena Ivanova"), (ids[1], "Georgi Kolev")]
        )
        again = run_import(db_session, VALID, chunk=1, processes=2)
        assert (again.created, again.updated, again.unchanged, again.errors) == (0, 0, 3, [])
        assert {p.action for p in again.preview} == {"unchanged"}


def test_what_the_file_writes_otherwise_is_checked_and_compared(app):
    """A client the file repeats with a number written the national way, an email in capitals
    and another case of its group's name is unchanged (the schema reads it as stored); a new
    number, or an invalid one where the client holds a valid one, is seen."""
    with app.app_context():
        run_import(db_session, VALID, write=True)
        db_session.commit()
        stored = db_session.scalar(select(Phone.number).where(Phone.person_id.is_(None)))
        assert stored == "+35932123456"
        same = dict(BIOPROM, phone="+359 32 123 456", email="OFFICE@bioprom.bg",
                    customer_group="wholesale")  # fmt: skip
        plan = run_import(db_session, HEADER + "\n" + row(**same, person_name="Ivan Petrov"))
        assert (plan.updated, plan.unchanged, plan.errors) == (0, 1, [])
        plan = run_import(db_session, HEADER + "\n" + row(**dict(BIOPROM, phone="032 123 457")))
        assert (plan.updated, plan.unchanged, plan.errors) == (1, 0, [])
        plan = run_import(db_session, HEADER + "\n" + row(**dict(BIOPROM, phone="+359 32")))
        assert [str(e) for e in plan.errors] == [
            "row 2, phone: Not a valid phone number; write "
            "it with the country code, e.g. +359 2 123 4567."
        ]
        db_session.rollback()  # fmt: skip


def test_a_stream_that_is_not_utf8_names_its_line(app):
    content = (HEADER + "\n" + row(name="Ok") + row(name="Caf\xe9")).encode("latin-1")
    with app.app_context():
        plan = run_import(db_session, io.BytesIO(content))
    assert [str(e) for e in plan.errors] == [
        "row 1: The file is not UTF-8 (line 3). Save it as “CSV UTF-8” and upload it again."
    ]
