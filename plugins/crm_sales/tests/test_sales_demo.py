"""crm_sales' demo data: a catalogue in a group tree and three calendar years of documents."""

from __future__ import annotations

import time
from datetime import date

from sqlalchemy import func, select

from core.db import db_session
from core.testing import logged_in, make_user
from crm_contacts.models import Client
from crm_sales.models import Payment, Product, ProductGroup, SalesDocument, SalesLine
from crm_sales.turnover import turnover_by_period
from tests.helpers import run_cli


def test_demo_data_is_realistic_and_quick(crm_app_factory):
    app = crm_app_factory(["crm_sales"])
    started = time.perf_counter()
    result = run_cli(app, "demo")
    elapsed = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    assert elapsed < 20  # crm_contacts' demo included
    with app.app_context():
        count = lambda model: db_session.scalar(select(func.count()).select_from(model))  # noqa: E731
        assert 250 <= count(Product) <= 400
        assert count(ProductGroup) >= 15
        assert db_session.scalar(select(func.count()).where(ProductGroup.parent_id.is_(None))) == 5
        assert count(SalesDocument) > 500
        assert count(Payment) > 300
        kinds = set(db_session.scalars(select(SalesDocument.kind).distinct()))
        assert kinds == {"invoice", "credit_note"}
        first, last = db_session.execute(
            select(func.min(SalesLine.date), func.max(SalesLine.date))
        ).one()
        today = date.today()
        assert first.year == today.year - 2 and last <= today
        # Seasonality: over all clients, December sells more than January.
        months = turnover_by_period(
            db_session, None, date(today.year - 2, 1, 1), date(today.year - 1, 12, 31)
        )
        by_month = {p: v for p, v in months.items()}
        decembers = sum(v for p, v in by_month.items() if p.index == 12)
        januaries = sum(v for p, v in by_month.items() if p.index == 1)
        assert decembers > januaries
        client_id = db_session.scalar(
            select(SalesLine.client_id).group_by(SalesLine.client_id).limit(1)
        )
    # Demo data is added once.
    assert run_cli(app, "demo").exit_code == 0
    with app.app_context():
        assert db_session.scalar(select(func.count()).select_from(Product)) <= 400
    make_user(app, "boss", groups=("admin",))
    boss = logged_in(app, "boss")
    with app.app_context():
        code = db_session.scalar(select(Product.code).where(Product.active.is_(True)).limit(1))
    # The demo leaves the id sequences right (PostgreSQL): a new document gets its own id.
    new = {"number": "NEW-1", "client_id": client_id, "date": date.today().isoformat(),
           "lines": [{"product_code": code, "quantity": "1", "unit_price": "2"}]}  # fmt: skip
    assert boss.post("/api/v1/sales/documents", json=new).status_code == 201
    page = boss.get(f"/sales/clients/{client_id}/analysis")
    assert page.status_code == 200
    assert '<svg class="crm-chart' in page.text
    with app.app_context():
        assert db_session.get(Client, client_id) is not None
