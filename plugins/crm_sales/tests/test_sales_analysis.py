"""The trade turnover analysis of a client: every figure of the page and of its exports matches a
hand computation from a small known set of documents; the client-file section; a constant number
of queries."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser

import openpyxl
import pytest
import time_machine

from core.db import db_session
from core.testing import logged_in
from crm_sales.documents import DocumentData, LineData, PaymentData, write_document
from crm_sales.models import Product

TODAY = date(2026, 6, 15)


class _Tables(HTMLParser):
    """The text of the cells of every table that has a ``data-testid``."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.current: str | None = None
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if tag == "table" and found.get("data-testid"):
            self.current = found["data-testid"]
            self.tables[self.current] = []
        elif self.current and tag == "tr":
            self.tables[self.current].append([])
        elif self.current and tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "table":
            self.current = None
        elif self.current and tag in ("td", "th") and self.cell is not None:
            self.tables[self.current][-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def tables(html: str) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


@pytest.fixture
def books(shop):
    """Acme's documents of 2025 and 2026 (and one of Bolt's), at 15 June 2026."""
    with shop.app_context():
        products = {p.code: p for p in db_session.query(Product)}

        def doc(number, day, lines, kind="invoice", client=shop.ids.acme, paid=None):
            write_document(
                db_session,
                DocumentData(
                    number=number, kind=kind, client_id=client, date=day,
                    lines=[LineData(products[c], Decimal(q), Decimal(p), Decimal(d))
                           for c, q, p, d in lines],
                    payments=[PaymentData(paid[0], Decimal(paid[1]))] if paid else [],
                ),
            )  # fmt: skip

        doc(
            "25-1",
            date(2025, 1, 10),
            [("MILK", "10", "1.20", "0")],
            paid=(date(2025, 2, 9), "12.00"),
        )  # 12.00, paid after 30 days
        doc("25-2", date(2025, 4, 5), [("CHEESE", "5", "8", "10")])  # 36.00
        doc("25-3", date(2025, 4, 20), [("CHEESE", "1", "8", "0")], kind="credit_note")  # -8.00
        doc("25-4", date(2025, 7, 1), [("SAW", "2", "20", "0")])  # 40.00
        doc("25-5", date(2025, 12, 15), [("MILK", "100", "1", "0")])  # 100.00
        doc(
            "26-1",
            date(2026, 1, 20),
            [("MILK", "20", "1.20", "0")],
            paid=(date(2026, 1, 30), "24.00"),
        )  # 24.00, paid after 10 days
        doc("26-2", date(2026, 3, 3), [("SAW", "1", "20", "0"), ("CHEESE", "2", "8", "0")])  # 36
        doc("26-3", date(2026, 6, 10), [("CHEESE", "10", "8", "0")])  # 80.00
        doc("B-1", date(2026, 2, 1), [("SAW", "50", "20", "0")], client=shop.ids.bolt)
        db_session.commit()
    with time_machine.travel(TODAY, tick=False):
        yield shop


def test_the_analysis_page_matches_the_hand_computation(books):
    page = logged_in(books, "maria").get(f"/sales/clients/{books.ids.acme}/analysis")
    assert page.status_code == 200
    found = tables(page.text)
    month = {row[0]: row[1:] for row in found["period-month"][1:]}
    assert len(month) == 12
    assert month["Jan"] == ["24.00", "12.00", "12.00", "+100.0%"]
    assert month["Mar"] == ["36.00", "0.00", "36.00", "—"]
    assert month["Apr"] == ["0.00", "28.00", "-28.00", "-100.0%"]
    # On 15 June, June runs: 1-15 June 2026 against 1-15 June 2025 (nothing then; 0.00 in all).
    assert month["Jun to 15 Jun"] == ["80.00", "0.00 same days; in all 0.00", "80.00", "—"]
    # A month not begun is compared with nothing, not shown as a 100 % fall.
    assert month["Dec"] == ["—", "100.00", "—", "—"]
    assert found["period-quarter"][1:] == [
        ["Q1", "60.00", "12.00", "48.00", "+400.0%"],
        # 2025 to 15 June: 12.00 + 36.00 - 8.00 = 40.00, less Q1 2025's 12.00
        ["Q2 to 15 Jun", "80.00", "28.00 same days; in all 28.00", "52.00", "+185.7%"],
        ["Q3", "—", "40.00", "—", "—"],
        ["Q4", "—", "100.00", "—", "—"],
    ]
    assert found["period-half"][1:] == [
        ["H1 to 15 Jun", "140.00", "40.00 same days; in all 40.00", "100.00", "+250.0%"],
        ["H2", "—", "140.00", "—", "—"],
    ]
    assert found["period-year"][1:] == [
        ["2026 / 2025 to 15 Jun", "140.00", "40.00 same days; in all 180.00", "100.00", "+250.0%"]
    ]
    # Groups and products: 2026 to 15 June against 2025 to 15 June (the saw of July 2025 later).
    assert found["groups"][1:] == [
        ["Food › Dairy", "120.00", "40.00", "80.00", "+200.0%"],
        ["Tools", "20.00", "0.00", "20.00", "—"],
    ]
    assert found["top-products"][1:] == [
        ["CHEESE Cheese", "96.00", "28.00"],
        ["MILK Milk", "24.00", "12.00"],
        ["SAW Saw", "20.00", "0.00"],
    ]
    # (12.00 x 30 days + 24.00 x 10 days) / 36.00
    assert 'data-testid="days-to-payment">16.7<' in page.text
    # 1 January to 15 June: 140.00 against 40.00 the same days of 2025
    assert 'data-testid="to-date-current">140.00<' in page.text
    assert "+250.0%, 100.00" in page.text
    assert '<svg class="crm-chart crm-chart-bar"' in page.text
    assert "Jan, 2026: 24.00 EUR" in page.text


def test_the_chart_follows_the_chosen_period(books):
    page = logged_in(books, "maria").get(
        f"/sales/clients/{books.ids.acme}/analysis?period=quarter&year=2026"
    )
    assert "Q2, 2025: 28.00 EUR" in page.text


def test_the_exports_hold_the_same_figures(books):
    client = logged_in(books, "maria")
    answer = client.get(f"/sales/clients/{books.ids.acme}/analysis.csv")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert ["Q1", "60.00", "12.00", "48.00", "400.0"] in rows
    assert ["Q2 (to 2026-06-15; 2025: the same days)", "80.00", "28.00", "52.00", "185.7"] in rows
    assert ["Q3 (not begun)", "0.00", "40.00", "", ""] in rows
    year = ["2026 / 2025 (to 2026-06-15; 2025: the same days)", "140.00", "40.00", "100.00"]
    assert [*year, "250.0"] in rows
    assert ["Average days to payment", "16.7", "", "", ""] in rows
    answer = client.get(f"/sales/clients/{books.ids.acme}/analysis.xlsx")
    assert answer.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(answer.data)).active
    values = [tuple(c.value for c in row) for row in sheet.iter_rows()]
    assert ("H1 (to 2026-06-15; 2025: the same days)", 140, 40, 100, 250) in values
    assert ("Food › Dairy", 120, 40, 80, 200) in values


def test_a_past_year_compares_whole_periods(books):
    page = logged_in(books, "maria").get(f"/sales/clients/{books.ids.acme}/analysis?year=2025")
    found = tables(page.text)
    month = {row[0]: row[1:] for row in found["period-month"][1:]}
    assert month["Dec"] == ["100.00", "0.00", "100.00", "—"]
    assert found["period-year"][1:] == [["2025 / 2024", "180.00", "0.00", "180.00", "—"]]
    assert found["groups"][1:] == [
        ["Food › Dairy", "140.00", "0.00", "140.00", "—"],
        ["Tools", "40.00", "0.00", "40.00", "—"],
    ]
    assert 'data-testid="groups-until"' not in page.text


def test_the_page_runs_the_same_number_of_queries_whatever_the_history(books, count_queries):
    client = logged_in(books, "georgi")
    client.get(f"/sales/clients/{books.ids.bolt}/analysis")  # warm up the runtime state
    with count_queries(books) as small:
        assert client.get(f"/sales/clients/{books.ids.bolt}/analysis").status_code == 200
    with count_queries(books) as large:
        assert client.get(f"/sales/clients/{books.ids.acme}/analysis").status_code == 200
    assert len(small) == len(large) <= 15


def test_a_representative_cannot_analyse_another_representatives_client(books):
    maria = logged_in(books, "maria")
    assert maria.get(f"/sales/clients/{books.ids.bolt}/analysis").status_code == 404
    assert maria.get(f"/sales/clients/{books.ids.bolt}/analysis.csv").status_code == 404


def test_the_client_file_shows_this_year_against_last_year_and_a_trend(books):
    page = logged_in(books, "maria").get(f"/contacts/clients/{books.ids.acme}")
    assert page.status_code == 200
    assert 'id="section-crm_sales.turnover"' in page.text
    assert 'data-testid="ytd-current">140.00 EUR<' in page.text
    assert 'data-testid="ytd-previous">40.00<' in page.text
    assert "+250.0%" in page.text
    assert '<svg class="crm-sparkline"' in page.text
    # the last 12 months, July 2025 to June 2026
    assert "Turnover of the last 12 months (Jul 2025 to Jun 2026): 40.00, 0.00," in page.text


def test_the_turnover_api(books):
    answer = logged_in(books, "georgi").get(
        f"/api/v1/sales/turnover?client_id={books.ids.acme}&start=2025-01-01&end=2025-12-31"
        f"&period=half&group_id={books.ids.food}"
    )
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert [p["turnover"] for p in body["periods"]] == ["40.00", "100.00"]
    assert body["total"] == "140.00"
    bad = logged_in(books, "georgi").get("/api/v1/sales/turnover?client_id=1&period=week")
    assert bad.status_code == 400 and "period" in bad.get_json()["errors"]


def test_the_client_file_of_a_client_without_sales_says_so(shop):
    page = logged_in(shop, "peter").get(f"/contacts/clients/{shop.ids.bolt}")
    assert page.status_code == 200
    assert 'data-testid="no-sales">No sales since 1 January last year.' in page.text
    assert f"/sales/documents?client={shop.ids.bolt}" in page.text


def test_a_customer_groups_turnover_sums_only_the_clients_the_user_may_see(books):
    """Aggregates obey the record rules like rows do: Maria's figure for a group of Acme (hers)
    and Bolt (Peter's) is Acme's alone."""
    from crm_contacts.models import Client, CustomerGroup

    with books.app_context():
        group = CustomerGroup(name="Mixed shops")
        db_session.add(group)
        db_session.flush()
        for client_id in (books.ids.acme, books.ids.bolt):
            db_session.get(Client, client_id).customer_group_id = group.id
        db_session.commit()
        group_id = group.id
    url = f"/api/v1/sales/turnover?customer_group_id={group_id}&start=2026-01-01&end=2026-12-31"
    assert logged_in(books, "georgi").get(url).get_json()["total"] == "1140.00"
    assert logged_in(books, "maria").get(url).get_json()["total"] == "140.00"
    assert logged_in(books, "peter").get(url).get_json()["total"] == "1000.00"


def test_the_exports_carry_formula_like_names_as_text(books):
    with books.app_context():
        product = db_session.query(Product).filter(Product.name != "").first()
        product.name = "=SUM(1)+cmd|' /C calc'!A0"
        db_session.commit()
    client = logged_in(books, "maria")
    text = client.get(f"/sales/clients/{books.ids.acme}/analysis.csv").text
    names = [cells[0] for cells in csv.reader(io.StringIO(text)) if cells]
    assert "'=SUM(1)+cmd|' /C calc'!A0" in names and "=SUM(1)+cmd|' /C calc'!A0" not in names
    # Negative changes stay numbers: "-12.5" is no formula.
    assert all(
        not cell.startswith("'-") for cells in csv.reader(io.StringIO(text)) for cell in cells
    )
    data = client.get(f"/sales/clients/{books.ids.acme}/analysis.xlsx").data
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    texts = [cell for row in sheet.iter_rows() for cell in row if isinstance(cell.value, str)]
    assert texts and all(cell.data_type == "s" for cell in texts)
