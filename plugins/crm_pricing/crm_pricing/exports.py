"""The client price list as files to send to the client: CSV, XLSX (openpyxl) and PDF (fpdf2).

Each is built from the lines ``service.price_list`` computed (one run, a constant number of
queries), grouped by product group as on screen.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from itertools import groupby

from crm_pricing.service import ClientFacts, PriceListLine

HEADERS = (
    "Product group", "Code", "Product", "Unit", "List price", "Your price", "Discount %",
    "Currency",
)  # fmt: skip


def _list_price(line: PriceListLine):
    from crm_pricing.money import round_price

    return round_price(line.result.list_price, line.result.currency)


def table(lines: list[PriceListLine]) -> Iterator[tuple]:
    for line in lines:
        p, r = line.product, line.result
        yield (line.group, p.code, p.name, p.unit, _list_price(line), r.unit_price,
               r.total_discount_percent, r.currency)  # fmt: skip


def to_csv(lines: list[PriceListLine]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADERS)
    for row in table(lines):
        writer.writerow([str(v) for v in row])
    return out.getvalue()


def to_xlsx(client: ClientFacts, on: date, lines: list[PriceListLine]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Price list")
    bold = Font(bold=True)
    title = WriteOnlyCell(sheet, value=f"Price list of {client.name} on {on.isoformat()}")
    title.font = bold
    sheet.append([title])
    header = []
    for text in HEADERS:
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in table(lines):
        # Decimals stay exact: openpyxl writes them as numbers.
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _latin(text: str) -> str:
    """The PDF's core font covers Latin-1; other characters read as "?" rather than fail."""
    return str(text).encode("latin-1", "replace").decode("latin-1")


def to_pdf(client: ClientFacts, on: date, lines: list[PriceListLine]) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_title(_latin(f"Price list of {client.name}"))
    pdf.add_page()
    pdf.set_font("helvetica", "B", 14)
    pdf.cell(0, 8, _latin(f"Price list of {client.name}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 9)
    pdf.cell(0, 6, f"Prices on {on.isoformat()}, per unit", new_x="LMARGIN", new_y="NEXT")
    widths = (28, 72, 14, 24, 24, 18)
    heads = ("Code", "Product", "Unit", "List price", "Your price", "Disc. %")
    for group, items in groupby(lines, key=lambda line: line.group):
        pdf.ln(2)
        pdf.set_font("helvetica", "B", 10)
        pdf.cell(0, 6, _latin(group), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("helvetica", "B", 8)
        for width, text in zip(widths, heads, strict=True):
            pdf.cell(width, 5, text, border="B", align="R" if width in (24, 18) else "L")
        pdf.ln()
        pdf.set_font("helvetica", "", 8)
        for line in items:
            p, r = line.product, line.result
            cells = (p.code, p.name[:48], p.unit, f"{_list_price(line)} {r.currency}",
                     f"{r.unit_price} {r.currency}", f"{r.total_discount_percent}")  # fmt: skip
            for width, text in zip(widths, cells, strict=True):
                pdf.cell(width, 4.5, _latin(text), align="R" if width in (24, 18) else "L")
            pdf.ln()
    return bytes(pdf.output())
