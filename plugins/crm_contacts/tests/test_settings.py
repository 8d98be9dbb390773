"""crm_contacts: the configurable lists under Settings (customer groups, contact types)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from core.db import db_session
from core.models import AuditEntry
from core.testing import form_fields, logged_in, make_user
from crm_contacts.models import Client, Contact, ContactType, CustomerGroup

GROUPS = "/contacts/settings/customer-groups"
TYPES = "/contacts/settings/contact-types"


@pytest.fixture
def app(crm_app_factory):
    app = crm_app_factory(["crm_contacts"])
    app.georgi = make_user(app, "georgi", groups=("sales_manager",))
    make_user(app, "maria", groups=("sales_rep",))
    return app


def _no_inline_code(page: str) -> None:
    assert "style=" not in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert '<input type="hidden" name="csrf_token"' in page


def _group_id(app, name: str) -> int | None:
    with app.app_context():
        return db_session.scalar(select(CustomerGroup.id).where(CustomerGroup.name == name))


def test_the_lists_need_the_configure_permission(app):
    maria = logged_in(app, "maria")
    for url in (GROUPS, TYPES, f"{GROUPS}/1/edit", f"{GROUPS}/1/delete", f"{TYPES}/1/delete"):
        assert maria.get(url).status_code == 403
    assert maria.post(GROUPS, data={"name": "VIP"}).status_code == 403
    georgi = logged_in(app, "georgi")
    home = georgi.get("/").get_data(as_text=True)
    assert f'href="{GROUPS}"' in home and f'href="{TYPES}"' in home  # under Settings


def test_add_rename_and_validate_customer_groups(app):
    georgi = logged_in(app, "georgi")
    page = georgi.get(GROUPS).get_data(as_text=True)
    for name in ("Wholesale", "Retail", "Distributor", "Key account"):  # seeded by the migration
        assert f"<td>{name}</td>" in page
    _no_inline_code(page)

    assert georgi.post(GROUPS, data={"name": " Horeca "}).status_code == 302
    horeca = _group_id(app, "Horeca")
    assert horeca is not None

    for bad, message in (("", "Give the group a name."), ("horeca", "exists already"),
                         ("x" * 101, "At most 100 characters.")):  # fmt: skip
        refused = georgi.post(GROUPS, data={"name": bad})
        assert refused.status_code == 400
        page = refused.get_data(as_text=True)
        assert message in page and "is-invalid" in page

    form = georgi.get(f"{GROUPS}/{horeca}/edit").get_data(as_text=True)
    _no_inline_code(form)
    fields = form_fields(form, action=f"{GROUPS}/{horeca}/edit")
    assert fields == {"name": "Horeca", "version": "1"}
    edit = f"{GROUPS}/{horeca}/edit"
    assert georgi.post(edit, data={**fields, "name": "Retail"}).status_code == 400
    assert georgi.post(edit, data={**fields, "name": "HoReCa"}).status_code == 302
    assert _group_id(app, "HoReCa") == horeca
    assert georgi.get(f"{GROUPS}/99999/edit").status_code == 404


def test_deleting_a_group_in_use_empties_its_clients_group(app):
    retail = _group_id(app, "Retail")
    with app.app_context():
        db_session.add_all(
            Client(name=f"Shop {i}", customer_group_id=retail, responsible_id=app.georgi)
            for i in range(3)
        )
        db_session.commit()
    georgi = logged_in(app, "georgi")
    listing = georgi.get(GROUPS).get_data(as_text=True)
    assert re.search(rf'data-group="{retail}">\s*<td>Retail</td>\s*<td[^>]*>3</td>', listing)
    confirm = georgi.get(f"{GROUPS}/{retail}/delete")
    page = confirm.get_data(as_text=True)
    assert confirm.status_code == 200
    assert "<strong>3</strong> clients are in this group" in page
    assert "their customer group becomes empty" in page
    _no_inline_code(page)
    assert _group_id(app, "Retail") == retail  # the confirmation page deletes nothing

    done = georgi.post(f"{GROUPS}/{retail}/delete", data={"version": "1"})
    assert done.status_code == 302
    assert "3 client(s) now have no group" in georgi.get(GROUPS).get_data(as_text=True)
    with app.app_context():
        assert db_session.get(CustomerGroup, retail) is None
        clients = db_session.scalars(select(Client).order_by(Client.id)).all()
        assert [(c.customer_group_id, c.version) for c in clients] == [(None, 2)] * 3
        entries = db_session.scalars(
            select(AuditEntry).where(AuditEntry.field == "customer_group_id")
        ).all()
        assert {(e.record_id, e.old_value, e.new_value, e.user_login) for e in entries} == {
            (str(c.id), str(retail), None, "georgi") for c in clients
        }
    # The clients still open.
    assert georgi.get(f"/contacts/clients/{clients[0].id}").status_code == 200


def test_contact_types_add_edit_and_order(app):
    georgi = logged_in(app, "georgi")
    page = georgi.get(TYPES).get_data(as_text=True)
    _no_inline_code(page)
    codes = re.findall(r'data-type="([a-z_]+)"', page)
    assert codes == ["visit", "meeting", "phone_call", "email", "video_call", "other"]

    added = georgi.post(TYPES, data={"code": "site_visit", "name": "Site visit", "order": "0"})
    assert added.status_code == 302
    assert re.findall(r'data-type="([a-z_]+)"', georgi.get(TYPES).get_data(as_text=True))[0] == (
        "site_visit"
    )
    for data, message in (
        ({"code": "visit", "name": "Again"}, "The code “visit” is taken."),
        ({"code": "Site Visit", "name": "X"}, "Lower-case letters"),
        ({"code": "fax", "name": ""}, "Give the type a name."),
        ({"code": "fax", "name": "Fax", "order": "soon"}, "A whole number."),
    ):
        refused = georgi.post(TYPES, data=data)
        assert refused.status_code == 400 and message in refused.get_data(as_text=True)

    with app.app_context():
        kind = db_session.scalars(select(ContactType).where(ContactType.code == "site_visit")).one()
    url = f"{TYPES}/{kind.id}/edit"
    form = georgi.get(url).get_data(as_text=True)
    _no_inline_code(form)
    assert form_fields(form, action=url) == {"name": "Site visit", "order": "0", "version": "1"}
    saving = {"name": "Visit on site", "version": "1"}
    assert georgi.post(url, data={**saving, "order": "-1"}).status_code == 400
    assert georgi.post(url, data={**saving, "order": "7"}).status_code == 302
    with app.app_context():
        kind = db_session.get(ContactType, kind.id)
        assert (kind.code, kind.name, kind.order) == ("site_visit", "Visit on site", 7)


def test_a_contact_type_in_use_cannot_be_deleted(app):
    with app.app_context():
        visit = db_session.scalars(select(ContactType).where(ContactType.code == "visit")).one()
        other = db_session.scalars(select(ContactType).where(ContactType.code == "other")).one()
        client = Client(name="Bioprom", responsible_id=app.georgi)
        db_session.add_all(
            Contact(client=client, user_id=app.georgi, contact_type=visit,
                    starts_at=datetime(2026, 3, 1, 9, tzinfo=UTC))
            for _ in range(2)
        )  # fmt: skip
        db_session.commit()
        visit_id, other_id = visit.id, other.id
    georgi = logged_in(app, "georgi")
    listing = georgi.get(TYPES).get_data(as_text=True)
    assert re.search(r'data-type="visit">(?:(?!</tr>).)*data-testid="used">2<', listing, re.S)

    refusal = georgi.get(f"{TYPES}/{visit_id}/delete").get_data(as_text=True)
    assert "2 contacts use the type “Visit”: it cannot be deleted" in refusal
    assert 'method="post"' not in refusal.split("<main", 1)[1]  # no delete button
    refused = georgi.post(f"{TYPES}/{visit_id}/delete")
    assert refused.status_code == 409
    with app.app_context():
        assert db_session.get(ContactType, visit_id) is not None

    confirm = georgi.get(f"{TYPES}/{other_id}/delete").get_data(as_text=True)
    assert "No contact uses it." in confirm
    _no_inline_code(confirm)
    assert georgi.post(f"{TYPES}/{other_id}/delete").status_code == 302
    with app.app_context():
        assert db_session.get(ContactType, other_id) is None
