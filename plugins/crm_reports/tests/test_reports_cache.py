"""Grouped results kept per (spec, record-rule restriction, data versions): a kept result equals the
database's, a committed write (from any engine, as from another process) makes the next run see
it, an uncommitted one never fills the cache, and a representative never gets another user's
kept rows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from reports_helpers import GEORGI_SPEC, pivot_figures, turnover_by_group_quarter, user_id
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import db_session, make_engine
from core.models import User
from core.testing import logged_in
from core.timezone import local_today
from crm_contacts.models import Client
from crm_reports import service
from crm_reports.cache import RESULTS
from crm_sales.documents import DocumentData, LineData, write_document
from crm_sales.models import Product


def _run(client) -> dict:
    response = client.post("/api/v1/reports/run", json=GEORGI_SPEC)
    assert response.status_code == 200, response.get_json()
    return pivot_figures(response.get_json())


def _invoice(session: Session, number: str, client_login: str, amount: Decimal) -> str:
    """An invoice of ``amount`` today for a client of ``client_login``; its customer group."""
    rep = session.scalar(select(User.id).where(User.login == client_login))
    client = session.scalar(
        select(Client).where(Client.responsible_id == rep, Client.customer_group_id.is_not(None))
    )
    product = session.scalar(select(Product).order_by(Product.id))
    write_document(session, DocumentData(number=number, kind="invoice", client_id=client.id,
                   date=local_today(), lines=[LineData(product, Decimal(1), amount)]))  # fmt: skip
    session.commit()
    return client.customer_group.name


def _quarter() -> str:
    today = local_today()
    return f"{today.year}-Q{(today.month + 2) // 3}"


def test_a_kept_result_equals_the_databases_and_a_committed_write_is_seen_next_time(app):
    georgi = logged_in(app, "georgi", "demo")
    first = _run(georgi)
    hits = RESULTS.hits
    again = _run(georgi)
    assert RESULTS.hits == hits + 1  # the second run was answered from the cache...
    assert again == first == turnover_by_group_quarter(app)  # ...with the database's figures
    # A write through another engine, as another process would write it.
    other = make_engine(app.config["DATABASE_URL"])
    try:
        with Session(other) as session:
            group = _invoice(session, "CACHE-1", "maria", Decimal("1234.56"))
    finally:
        other.dispose()
    after = _run(georgi)
    key = (group, _quarter())
    assert after[key] == first.get(key, Decimal(0)) + Decimal("1234.56")
    assert after == turnover_by_group_quarter(app)


def test_a_representative_never_gets_another_users_kept_rows(app):
    georgi, maria, peter = (logged_in(app, login, "demo") for login in ("georgi", "maria", "peter"))
    everyone = _run(georgi)
    hers, his = _run(maria), _run(peter)
    assert hers == turnover_by_group_quarter(app, user_id(app, "maria")) != everyone
    assert his == turnover_by_group_quarter(app, user_id(app, "peter")) != hers
    hits = RESULTS.hits
    assert (_run(maria), _run(peter), _run(georgi)) == (hers, his, everyone)
    assert RESULTS.hits == hits + 3  # each from their own entry


def test_an_uncommitted_write_neither_uses_nor_fills_the_cache(app):
    with app.app_context():
        maria = db_session.scalar(select(User).where(User.login == "maria"))
        with service.as_user(app, maria):
            before = service.runner(GEORGI_SPEC, maria, db_session).run(limit=None)
            group = _invoice_uncommitted(db_session, maria.id, Decimal("999.00"))
            pending = service.runner(GEORGI_SPEC, maria, db_session).run(limit=None)
            db_session.rollback()
            after = service.runner(GEORGI_SPEC, maria, db_session).run(limit=None)
    total = {c.pivot_key: i for i, c in enumerate(before.columns) if c.role == "measure"}
    column = total[_quarter()]

    def cell(result) -> Decimal:
        row = next(r for r in result.rows if r[0] == group)
        return row[column] or Decimal(0)

    assert cell(pending) == cell(before) + Decimal("999.00")  # her own transaction sees it
    assert cell(after) == cell(before)  # rolled back: not kept, not served
    assert after.rows == before.rows


def _invoice_uncommitted(session: Session, rep: int, amount: Decimal) -> str:
    client = session.scalar(
        select(Client).where(Client.responsible_id == rep, Client.customer_group_id.is_not(None))
    )
    product = session.scalar(select(Product).order_by(Product.id))
    write_document(session, DocumentData(number="CACHE-2", kind="invoice", client_id=client.id,
                   date=date.today(), lines=[LineData(product, Decimal(1), amount)]))  # fmt: skip
    return client.customer_group.name
