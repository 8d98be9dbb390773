"""crm_sales gives the client list its "Turnover this year" column (crm_contacts'
``crm_contacts_client_columns``): this year's net turnover of the page's clients in one query,
sortable inside the list's one paged query, within the record rules."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from core.db import db_session
from core.models import Group, PermissionRecord
from core.testing import logged_in, make_user, statements_run
from core.timezone import local_today
from crm_contacts.models import Client
from crm_sales.documents import DocumentData, LineData, write_document
from crm_sales.models import Product

LIST = "/contacts/clients"
KEY = "crm_sales.turnover_year"


def _sell(app, client_id: int, day: date, amount: str, kind: str = "invoice") -> None:
    with app.app_context():
        saw = db_session.scalar(select(Product).where(Product.code == "SAW"))
        number = f"{kind[0].upper()}-{client_id}-{day.isoformat()}-{amount}"
        write_document(db_session, DocumentData(
            number=number, kind=kind, client_id=client_id, date=day, rate=Decimal("1"),
            currency="EUR", lines=[LineData(saw, Decimal("1"), Decimal(amount), Decimal("0"))],
        ))  # fmt: skip
        db_session.commit()


def _names(page: str) -> list[str]:
    table = page[page.index('data-testid="clients"') :]
    return re.findall(r'<a href="/contacts/clients/\d+">([^<]+)</a>', table)


def _turnover(page: str) -> list[str]:
    return re.findall(rf'<td data-col="{KEY}" class="text-end">([^<]*)</td>', page)


def test_turnover_this_year_is_a_column_sortable_in_one_paged_query(shop):
    ids = shop.ids
    year = local_today().year
    with shop.app_context():
        db_session.add(Client(name="Crumb", responsible_id=ids.maria))  # never bought anything
        db_session.commit()
    _sell(shop, ids.acme, date(year, 1, 10), "1200")
    _sell(shop, ids.acme, date(year, 2, 1), "200", kind="credit_note")  # net 1,000.00
    _sell(shop, ids.acme, date(year - 1, 6, 1), "90000")  # last year: not counted
    _sell(shop, ids.bolt, date(year, 3, 3), "2500.50")
    georgi = logged_in(shop, "georgi")
    offered = georgi.get(LIST).text
    assert f'name="columns" value="{KEY}"' in offered and "Turnover this year" in offered
    georgi.post("/contacts/clients/columns", data={"columns": [KEY], "next": LIST})

    page = georgi.get(LIST).text
    assert _names(page) == ["Acme", "Bolt", "Crumb"]
    assert _turnover(page) == ["1,000.00", "2,500.50", "—"]
    georgi.get(LIST, query_string={"sort": f"-{KEY}"})  # warm
    with statements_run(shop) as statements:
        biggest = georgi.get(LIST, query_string={"sort": f"-{KEY}"}).text
    assert _names(biggest) == ["Bolt", "Acme", "Crumb"]  # no sales: last both ways
    assert 'aria-sort="descending"' in biggest
    assert _names(georgi.get(LIST, query_string={"sort": KEY}).text) == ["Acme", "Bolt", "Crumb"]
    # The sort is a correlated sum inside the one paged query of client ids, and the page's
    # values one grouped query: never a query per client.
    lines = [s for s in statements if "crm_sales_line" in s]
    assert len(lines) == 2, lines
    assert sum("LIMIT" in s and "OFFSET" in s for s in lines) == 1

    # Maria sees her clients' turnover only; sorting does not bring Bolt in.
    maria = logged_in(shop, "maria")
    maria.post("/contacts/clients/columns", data={"columns": [KEY], "next": LIST})
    hers = maria.get(LIST, query_string={"sort": f"-{KEY}"}).text
    assert _names(hers) == ["Acme", "Crumb"] and _turnover(hers) == ["1,000.00", "—"]


def test_without_the_sales_read_permission_the_column_is_not_offered(shop):
    with shop.app_context():
        group = Group(code="readers", name="Client readers")
        group.permissions = [db_session.get(PermissionRecord, "crm_contacts.read")]
        db_session.add(group)
        db_session.commit()
    make_user(shop, "reader", groups=("readers",))
    reader = logged_in(shop, "reader")
    page = reader.get(LIST, query_string={"sort": f"-{KEY}"})
    assert page.status_code == 200
    assert KEY not in page.text and _names(page.text) == ["Acme", "Bolt"]
