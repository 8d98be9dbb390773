"""The price list's XLSX and PDF over many lines: every line in the file, pages broken within the
margins, a file Excel opens whatever the product names hold."""

from __future__ import annotations

import io
import re
import zlib
from decimal import Decimal

import time_machine
from openpyxl import load_workbook
from pricing_helpers import NOW, add_products
from sqlalchemy import select

from core.db import db_session
from core.testing import logged_in
from crm_sales.models import Product, ProductGroup

PAGE_HEIGHT_PT = 841.89  # A4
BOTTOM_MARGIN_PT = 15 * 72 / 25.4


def _long_list(shop, count: int = 300) -> None:
    with shop.app_context():
        add_products(count, db_session.get(ProductGroup, shop.ids.a4))
        db_session.commit()


def _export(shop, fmt: str) -> bytes:
    with time_machine.travel(NOW, tick=False):
        http = logged_in(shop, "maria")
        answer = http.get(f"/pricing/clients/{shop.ids.bioprom}/price-list.{fmt}")
    assert answer.status_code == 200
    return answer.data


def test_a_long_pdf_price_list_breaks_its_pages_within_the_margins(shop):
    _long_list(shop)
    pdf = _export(shop, "pdf")
    pages = len(re.findall(rb"/Type /Page\b", pdf))
    streams = [
        zlib.decompress(s) if s[:1] == b"x" else s
        for s in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S)
    ]
    texts = [
        (float(x), float(y))
        for stream in streams
        for x, y in re.findall(rb"BT (\d+\.\d+) (\d+\.\d+) Td", stream)
    ]
    # 302 lines of six cells (the two shop products and 300 more), headings and titles beside.
    assert len(texts) >= 302 * 6
    assert pages >= 302 * 4.5 / (297 - 10 - 15)  # 4.5 mm a line on an A4 page within margins
    assert all(BOTTOM_MARGIN_PT <= y <= PAGE_HEIGHT_PT for _x, y in texts)
    assert all(0 < x < 595 for x, _y in texts)


def test_a_long_xlsx_price_list_holds_every_line_as_numbers_and_text(shop):
    _long_list(shop)
    with shop.app_context():
        product = db_session.scalar(select(Product).where(Product.code == "PAP-A4"))
        product.name = "Copy paper\x07 A4 \u0425"  # a control character Excel would refuse
        db_session.commit()
    sheet = load_workbook(io.BytesIO(_export(shop, "xlsx"))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0].startswith("Price list of ")
    assert rows[1][:3] == ("Product group", "Code", "Product")
    assert len(rows) == 2 + 302
    paper = next(row for row in rows if row[1] == "PAP-A4")
    assert paper[2] == "Copy paper A4 \u0425"
    extra = next(row for row in rows if row[1] == "X-00003")
    assert extra[4] == float(Decimal("4.99") + 3) and isinstance(extra[5], float)
