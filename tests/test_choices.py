"""``core.choices.read_lists``: several select boxes' lists in one statement, each in its own
order, with the record rules of the request applied inside the union."""

from __future__ import annotations

import pytest
from flask_login import login_user
from sqlalchemy import select

from core.choices import read_lists
from core.db import db_session
from core.models import User
from core.testing import logged_in, make_user, statements_run


@pytest.fixture
def app(crm_app_factory):
    app = crm_app_factory(["crm_contacts"])
    maria = make_user(app, "maria", groups=("sales_rep",))
    peter = make_user(app, "peter", groups=("sales_rep",))
    make_user(app, "georgi", groups=("sales_manager",))
    with app.app_context():
        from crm_contacts.models import Client, CustomerGroup, Region, Tag

        db_session.add_all(
            [
                Region(name="Test north", order=2),
                Region(name="Test south", order=1),
                Region(name="Test east", order=2),
                CustomerGroup(name="Test wholesale"),
                CustomerGroup(name="Test retail"),
                Client(name="Zeta Mine", responsible_id=maria, tags=[Tag(name="vip")]),
                Client(name="Alpha Mine", responsible_id=maria),
                Client(name="Beta Hidden", responsible_id=peter),
            ]
        )
        db_session.commit()
    return app


def _lists():
    from crm_contacts.models import Client, CustomerGroup, Region

    return {
        "regions": (select(Region.id, Region.name), (Region.order, Region.name)),
        "groups": (select(CustomerGroup.id, CustomerGroup.name), (CustomerGroup.name,)),
        "nothing": (select(User.id, User.name).where(User.id < 0), (User.name,)),
        "clients": (select(Client.id, Client.name), (Client.name.desc(),)),
    }


def test_each_list_comes_back_in_its_own_order_as_its_own_statement_gives_it(app):
    with app.app_context():
        together = read_lists(db_session, _lists())
        alone = {
            key: [tuple(row) for row in db_session.execute(query.order_by(*order))]
            for key, (query, order) in _lists().items()
        }
    assert together == alone
    mine = [name for _id, name in together["regions"] if name.startswith("Test ")]
    assert mine == ["Test south", "Test east", "Test north"]
    assert [name for _id, name in together["clients"]] == ["Zeta Mine", "Beta Hidden", "Alpha Mine"]
    assert together["nothing"] == []
    with app.app_context():
        assert read_lists(db_session, {}) == {}


def test_the_record_rules_of_the_request_apply_inside_the_union(app):
    with app.app_context():
        maria = db_session.scalar(select(User).where(User.login == "maria"))
    with app.test_request_context("/contacts/clients"):
        login_user(maria)
        app.preprocess_request()  # the request gate activates her record rules
        found = read_lists(db_session, _lists())
    assert [name for _id, name in found["clients"]] == ["Zeta Mine", "Alpha Mine"]
    assert {"Test south", "Test east", "Test north"} <= {name for _id, name in found["regions"]}


def test_the_client_list_reads_its_four_filter_lists_in_one_statement(app):
    georgi = logged_in(app, "georgi")
    with statements_run(app) as statements:
        page = georgi.get("/contacts/clients").get_data(as_text=True)
    assert sum("row_number() OVER" in s for s in statements) == 1
    assert not any(s.lstrip().startswith("SELECT crm_contacts_tag.name") for s in statements)
    regions = page[
        page.index('id="f-region"') : page.index("</select>", page.index('id="f-region"'))
    ]
    assert regions.index("Test south") < regions.index("Test east") < regions.index("Test north")
    for shown in ("Test retail", "Test wholesale", ">vip<", ">Maria<", ">Peter<"):
        assert shown in page
