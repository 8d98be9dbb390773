"""The client price list as files to send to the client: CSV, XLSX (``core.xlsx``) and PDF (fpdf2).

Each is built from the lines ``service.price_list`` computed (one run, a constant number of
queries), grouped by product group as on screen.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from datetime import date
from itertools import groupby
from pathlib import Path

from core import csvfiles, xlsx
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
    # core.xlsx writes the sheet's XML itself: openpyxl's write-only mode built and serialised an
    # object per cell, 90 % of the 10,000-line list's time. Decimals stay exact numbers, text stays
    # text (an inline string is never a formula).
    out = io.BytesIO()
    xlsx.write(
        out,
        "Price list",
        HEADERS,
        table(lines),
        heading=f"Price list of {client.name} on {on.isoformat()}",
    )
    return out.getvalue()


# DejaVu Sans Condensed, vendored beside this file (its licence in fonts/LICENSE): the PDF core
# fonts cover Latin-1 only, and client and product names are often Cyrillic.
_FONTS = Path(__file__).parent / "fonts"
_FONT = "DejaVuSansCondensed"
_WIDTHS = (28, 72, 14, 24, 24, 18)
_HEADS = ("Code", "Product", "Unit", "List price", "Your price", "Disc. %")
_RIGHT = (False, False, False, True, True, True)
_ROW_HEIGHT = 4.5


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
    for group, items in groupby(lines, key=lambda line: line.group):
        pdf.ln(2)
        pdf.set_font(_FONT, "B", 10)
        pdf.cell(0, 6, group, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(_FONT, "B", 8)
        for width, text, right in zip(_WIDTHS, _HEADS, _RIGHT, strict=True):
            pdf.cell(width, 5, text, border="B", align="R" if right else "L")
        pdf.ln()
        pdf.set_font(_FONT, "", 8)
        _rows(pdf, items)
    return bytes(pdf.output())


def _rows(pdf, items: Iterable[PriceListLine]) -> None:
    """The lines of a group with ``FPDF.text``, the same layout ``cell`` gives: ``cell`` shapes,
    measures and breaks each of its texts, 30 µs a cell, 1.8 s for 10,000 lines of six cells;
    placing plain text at a computed position costs a tenth of that. Pages break as they would
    with cells (the same bottom margin)."""
    widths: dict[str, float] = {}  # prices and units repeat: each text is measured once

    def width_of(text: str) -> float:
        known = widths.get(text)
        if known is None:
            known = widths[text] = pdf.get_string_width(text)
        return known

    bottom = pdf.h - pdf.b_margin
    # Where ``cell`` puts the baseline in a line of this height, and its inner padding.
    baseline = 0.5 * _ROW_HEIGHT + 0.3 * pdf.font_size
    pad = pdf.c_margin
    y = pdf.get_y()
    for line in items:
        if y + _ROW_HEIGHT > bottom:
            pdf.add_page()
            y = pdf.get_y()
        p, r = line.product, line.result
        cells = (p.code, p.name[:48], p.unit, f"{_list_price(line)} {r.currency}",
                 f"{r.unit_price} {r.currency}", f"{r.total_discount_percent}")  # fmt: skip
        x = pdf.l_margin
        for width, text, right in zip(_WIDTHS, cells, _RIGHT, strict=True):
            if text:
                left = x + width - pad - width_of(text) if right else x + pad
                pdf.text(left, y + baseline, text)
            x += width
        y += _ROW_HEIGHT
    pdf.set_xy(pdf.l_margin, y)
