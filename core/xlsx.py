"""A one-sheet XLSX written row by row straight into its zip: constant memory and a few
microseconds a cell (openpyxl, even write-only, builds an object per cell: 2.4 s of CPU for a price
list of 10,000 lines, minutes for a report of a million rows). Numbers are numbers, money keeps its
two decimals (``#,##0.00``), dates are Excel dates (``yyyy-mm-dd``), text is an inline string
(never a formula, whatever it starts with: see ``core.csvfiles``); headings and the header row are
bold. For any module's list exports; a workbook with charts or several sheets goes through openpyxl.

    from core import xlsx
    xlsx.write(out, "Price list", ["Code", "Price"], rows, heading="Price list of Bioprom")
"""

# ruff: noqa: E501 - the package parts below are XML fixed by the format, kept on their lines

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape

_EPOCH = date(1899, 12, 30)
# Characters XML 1.0 cannot hold (control characters other than tab and newlines): Excel refuses a
# file that has one, so they are dropped from text.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Styles (cellXfs): 0 plain, 1 date, 2 money, 3 bold, 4 date-time, 5 bold money
_STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/><numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm"/></numFmts>
<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>
<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="6"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="4" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>
<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="4" fontId="1" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1"/></cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>"""
_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>
</Types>"""
_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
_WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>
</Relationships>"""


def _workbook(title: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<sheets><sheet name="{escape(title, {chr(34): "&quot;"})}" sheetId="1" r:id="rId1"/>'
        "</sheets></workbook>"
    )


def _cell(value: Any, bold: bool = False) -> str:
    if value is None:
        return "<c/>"
    if isinstance(value, bool):
        return f'<c t="b"><v>{int(value)}</v></c>'
    if isinstance(value, Decimal):
        return f'<c s="{5 if bold else 2}"><v>{value:f}</v></c>'
    if isinstance(value, int | float):
        return f"<c><v>{value}</v></c>"
    if isinstance(value, datetime):
        moment = value.replace(tzinfo=None)
        serial = (moment.date() - _EPOCH).days + (
            moment.hour * 3600 + moment.minute * 60 + moment.second
        ) / 86400
        return f'<c s="4"><v>{serial}</v></c>'
    if isinstance(value, date):
        return f'<c s="1"><v>{(value - _EPOCH).days}</v></c>'
    text = escape(_NOT_XML.sub("", str(value)))
    style = ' s="3"' if bold else ""
    return f'<c t="inlineStr"{style}><is><t xml:space="preserve">{text}</t></is></c>'


def _row(values: Iterable[Any], bold: bool = False) -> str:
    if bold:
        return "<row>" + "".join(_cell(v, True) for v in values) + "</row>"
    return "<row>" + "".join(map(_cell, values)) + "</row>"


def write(
    target: Path | IO[bytes],
    title: str,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    footer: Callable[[], Sequence[Any] | None] | None = None,
    *,
    heading: str | None = None,
) -> None:
    """Write ``heading`` (a bold line above the table, if given), ``header``, ``rows`` and then
    ``footer()`` (a row computed once the rows are written, such as their totals, or None) as one
    sheet named ``title`` (at most 31 characters, none of ``[]:*?/\\``), into ``target``, a path
    or a binary file."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", _workbook(title))
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/styles.xml", _STYLES)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(
                b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet '
                b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            )
            if heading is not None:
                sheet.write(_row([heading], bold=True).encode())
            sheet.write(_row(header, bold=True).encode())
            buffer: list[str] = []
            for row in rows:
                buffer.append(_row(row))
                if len(buffer) >= 2000:
                    sheet.write("".join(buffer).encode())
                    buffer.clear()
            last = footer() if footer is not None else None
            if last is not None:
                buffer.append(_row(last, bold=True))
            sheet.write("".join(buffer).encode())
            sheet.write(b"</sheetData></worksheet>")
