"""The client price list as files to send to the client: CSV, XLSX (openpyxl) and PDF (fpdf2).

Each is built from the lines ``service.price_list`` computed (one run, a constant number of
queries), grouped by product group as on screen.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from itertools import groupby
from pathlib import Path

from core import csvfiles
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
    writer = csvfiles.writer(out, lineterminator="\n")
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
        # Decimals stay exact: openpyxl writes them as numbers; text stays text, never a formula.
        cells = [WriteOnlyCell(sheet, value=value) for value in row]
        csvfiles.mark_text(cells)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# DejaVu Sans Condensed, vendored beside this file (its licence in fonts/LICENSE): the PDF core
# fonts cover Latin-1 only, and client and product names are often Cyrillic.
_FONTS = Path(__file__).parent / "fonts"
_FONT = "DejaVuSansCondensed"


def to_pdf(client: ClientFacts, on: date, lines: list[PriceListLine]) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font(_FONT, "", _FONTS / "DejaVuSansCondensed.ttf")
    pdf.add_font(_FONT, "B", _FONTS / "DejaVuSansCondensed-Bold.ttf")
    pdf.set_title(f"Price list of {client.name}")
    pdf.add_page()
    pdf.set_font(_FONT, "B", 14)
    pdf.cell(0, 8, f"Price list of {client.name}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FONT, "", 9)
    pdf.cell(0, 6, f"Prices on {on.isoformat()}, per unit", new_x="LMARGIN", new_y="NEXT")
    widths = (28, 72, 14, 24, 24, 18)
    heads = ("Code", "Product", "Unit", "List price", "Your price", "Disc. %")
    for group, items in groupby(lines, key=lambda line: line.group):
        pdf.ln(2)
        pdf.set_font(_FONT, "B", 10)
        pdf.cell(0, 6, group, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(_FONT, "B", 8)
        for width, text in zip(widths, heads, strict=True):
            pdf.cell(width, 5, text, border="B", align="R" if width in (24, 18) else "L")
        pdf.ln()
        pdf.set_font(_FONT, "", 8)
        for line in items:
            p, r = line.product, line.result
            cells = (p.code, p.name[:48], p.unit, f"{_list_price(line)} {r.currency}",
                     f"{r.unit_price} {r.currency}", f"{r.total_discount_percent}")  # fmt: skip
            for width, text in zip(widths, cells, strict=True):
                pdf.cell(width, 4.5, text, align="R" if width in (24, 18) else "L")
            pdf.ln()
    return bytes(pdf.output())
