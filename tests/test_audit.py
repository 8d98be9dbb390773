"""The audit trail: who changed which field of a record, from what to what; the history panel."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import Date, Integer, Numeric, String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

from core.audit import history_for, install_audit, to_text
from core.db import db_session
from core.models import AuditEntry, User
from core.modules import uninstall
from core.state import current_state
from core.testing import logged_in, make_user, statements_run
from tests.helpers import client_edit_form, tables

TABLE = "crm_contacts_client"


@pytest.fixture
def app(crm_app_factory):
    app = crm_app_factory(["crm_contacts"])
    make_user(app, "maria", groups=("sales_rep",))
    make_user(app, "georgi", groups=("sales_manager",))
    return app


def _create(http, **fields) -> int:
    response = http.post("/contacts/clients/new", data={"status": "prospect", **fields})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def _entries(app, record_id, action=None):
    with app.app_context():
        stmt = select(AuditEntry).where(
            AuditEntry.model == TABLE, AuditEntry.record_id == str(record_id)
        )
        if action:
            stmt = stmt.where(AuditEntry.action == action)
        return db_session.scalars(stmt.order_by(AuditEntry.id)).all()


def test_editing_through_the_form_records_old_and_new_values(app):
    maria = logged_in(app, "maria")
    client_id = _create(maria, name="Bioprom", address_city="Plovdiv", phone="+359 32 123 456")
    form = client_edit_form(maria, client_id)
    assert form["version"] == "1" and form["name"] == "Bioprom"

    saved = maria.post(f"/contacts/clients/{client_id}/edit", data={**form, "name": "Bioprom Ltd"})
    assert saved.status_code == 302

    updates = _entries(app, client_id, "update")
    assert [(e.field, e.old_value, e.new_value) for e in updates] == [
        ("name", "Bioprom", "Bioprom Ltd")
    ]
    entry = updates[0]
    assert entry.user_login == "maria" and entry.user_id is not None and entry.at is not None

    page = maria.get(f"/contacts/clients/{client_id}").get_data(as_text=True)
    panel = page[page.index('data-testid="history"') :]
    assert 'data-field="name"' in panel
    assert "<del>Bioprom</del>" in panel and "<ins>Bioprom Ltd</ins>" in panel
    assert "maria" in panel and 'data-action="create"' in panel
    # Newest first: the rename comes before the creation.
    assert panel.index('data-action="update"') < panel.index('data-action="create"')


def test_unchanged_fields_and_the_version_are_not_recorded(app):
    maria = logged_in(app, "maria")
    client_id = _create(maria, name="Agrotech", address_city="Varna")
    form = client_edit_form(maria, client_id)
    assert maria.post(f"/contacts/clients/{client_id}/edit", data=form).status_code == 302
    assert _entries(app, client_id, "update") == []
    assert client_edit_form(maria, client_id)["version"] == "1"  # nothing changed, nothing written

    form = client_edit_form(maria, client_id)
    changes = {**form, "website": "https://agrotech.example", "payment_term_days": "30"}
    assert maria.post(f"/contacts/clients/{client_id}/edit", data=changes).status_code == 302
    updates = _entries(app, client_id, "update")
    assert sorted((e.field, e.old_value, e.new_value) for e in updates) == [
        ("payment_term_days", None, "30"),
        ("website", "", "https://agrotech.example"),
    ]
    assert client_edit_form(maria, client_id)["version"] == "2"
    assert not [e for e in _entries(app, client_id) if e.field == "version"]


def test_create_and_delete_are_recorded(app):
    georgi = logged_in(app, "georgi")
    created = georgi.post("/api/v1/clients", json={"name": "Nova Foods", "country": "RO"})
    assert created.status_code == 201
    client_id = created.get_json()["id"]

    [create] = _entries(app, client_id)
    assert (create.action, create.field, create.old_value, create.user_login) == (
        "create",
        None,
        None,
        "georgi",
    )
    snapshot = json.loads(create.new_value)
    assert snapshot["name"] == "Nova Foods" and snapshot["country"] == "RO"
    assert snapshot["status"] == "prospect" and "version" not in snapshot and "id" not in snapshot

    # Outside a request (a CLI command, a job) there is nobody to name.
    with app.app_context():
        from crm_contacts.models import Client

        db_session.delete(db_session.get(Client, client_id))
        db_session.commit()
    [delete] = _entries(app, client_id, "delete")
    assert (delete.user_id, delete.user_login, delete.field) == (None, "", None)
    assert json.loads(delete.old_value)["name"] == "Nova Foods"

    with app.app_context():
        history = history_for(db_session, TABLE, client_id)
    assert [h.action for h in history] == ["delete", "create"]
    assert dict(history[0].values)["Country"] == "RO"


def test_history_survives_the_uninstall_of_the_module(app):
    maria = logged_in(app, "maria")
    client_id = _create(maria, name="Sever Trade")
    form = client_edit_form(maria, client_id)
    maria.post(f"/contacts/clients/{client_id}/edit", data={**form, "name": "Sever Trade JSC"})

    crm = app.extensions["crm"]
    uninstall(crm.engine, crm.plugins, "crm_contacts")
    assert TABLE not in tables(app)

    with app.app_context():
        history = history_for(db_session, TABLE, client_id)
    assert [(h.action, h.field, h.old_value, h.new_value, h.user_login) for h in history] == [
        ("update", "name", "Sever Trade", "Sever Trade JSC", "maria"),
        ("create", None, None, history[1].new_value, "maria"),
    ]
    assert dict(history[1].values)["Name"] == "Sever Trade"


def test_history_for_is_one_query_newest_first_and_bounded(app):
    maria = logged_in(app, "maria")
    client_id = _create(maria, name="Rila Water")
    for n in range(3):
        form = client_edit_form(maria, client_id)
        maria.post(f"/contacts/clients/{client_id}/edit", data={**form, "notes": f"Note {n}"})
    with app.app_context():
        current_state()  # as in a request, where the gate has read the installed set already
        with statements_run(app) as statements:
            history = history_for(db_session, TABLE, client_id, limit=2)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1
    assert [h.new_value for h in history] == ["Note 2", "Note 1"]


# A model of this test alone, on its own database: the tuple form of the opt-in and value rendering.
class _Base(DeclarativeBase):
    pass


class Gadget(_Base):
    __tablename__ = "test_gadget"
    __crm_audit__ = ("name", "price", "since")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    since: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(50), default="")  # not tracked


def test_tracked_fields_tuple_and_value_rendering():
    engine = create_engine("sqlite://")
    AuditEntry.__table__.create(engine)
    _Base.metadata.create_all(engine)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    install_audit(factory)
    with factory() as session:
        gadget = Gadget(name="Stand", price=Decimal("10.50"), since=None, note="x")
        session.add(gadget)
        session.commit()
        session.expire(gadget)  # the old values must still be read before they are replaced
        gadget.price = Decimal("12.00")
        gadget.since = date(2024, 3, 1)
        gadget.note = "y"
        session.commit()
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert json.loads(rows[0].new_value) == {"name": "Stand", "price": "10.50", "since": None}
    assert sorted((r.field, r.old_value, r.new_value) for r in rows[1:]) == [
        ("price", "10.50", "12.00"),
        ("since", None, "2024-03-01"),
    ]
    assert {r.user_login for r in rows} == {""}
    engine.dispose()
    assert to_text(True) == "true" and to_text(None) is None
    assert to_text(Decimal("0.10")) == "0.10"


def test_history_speaks_in_names_not_columns(app):
    """ "Responsible: Maria → Georgi", not "Responsible id: 3 → 2" (issue 13, point 8)."""
    maria_id = make_user(app, "maria.petrova", groups=("sales_rep",))
    georgi = logged_in(app, "georgi")
    client_id = _create(georgi, name="Bioprom", responsible_id=str(maria_id))
    form = client_edit_form(georgi, client_id)
    with app.app_context():
        georgi_id = db_session.scalar(select(User.id).where(User.login == "georgi"))
    saved = georgi.post(
        f"/contacts/clients/{client_id}/edit", data={**form, "responsible_id": str(georgi_id)}
    )
    assert saved.status_code == 302

    page = georgi.get(f"/contacts/clients/{client_id}").get_data(as_text=True)
    panel = page[page.index('data-testid="history"') :]
    # The column's label, and the people's names.
    changed = "<strong>Responsible representative</strong>: <del>Maria.Petrova</del> → <ins>Georgi"
    assert changed in panel
    assert "Responsible id" not in panel and f">{maria_id}<" not in panel
    # The creation's snapshot names its fields and the people too.
    assert "Responsible representative: Maria.Petrova;" in panel
