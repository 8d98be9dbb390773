"""Planning an import: how rows make clients (the key of a row, a later row of the same client
merged into it) and how a client is matched with an existing one. The passes over the file are
``running``'s."""

from __future__ import annotations

import functools
import re

from marshmallow import ValidationError

from crm_contacts.importing.plan import _Draft, _Lookups
from crm_contacts.importing.reading import CLIENT_COLUMNS, RowError, _split
from crm_contacts.validation import normalise_country, normalise_vat

KEYS = ("vat_number", "name")
PREVIEW_ROWS = 20


def _vat_key(cells: dict[str, str]) -> str:
    """The normalised VAT number for grouping and matching; what is invalid is compacted only
    (its row gets an error from the schema anyway)."""
    return _compact_vat(cells.get("vat_number", "").strip(), cells.get("country", "").strip())


# A Bulgarian VAT number as stored ("BG" and 9 or 10 digits) is its own key: checking its digits
# (python-stdnum, 30 µs) decides nothing here, the schema checks it anyway. The first pass of an
# import computes the key of every row: 3 s of 100,000 rows. Other countries' numbers go through
# stdnum, whose forms differ (Belgium's pads a digit: "BE123456789" is "BE0123456789").
_BG_STORED = re.compile(r"BG\d{9,10}")


@functools.lru_cache(maxsize=4096)
def _compact_vat(raw: str, country: str) -> str:
    if not raw:
        return ""
    if country in ("", "BG", "bg") and _BG_STORED.fullmatch(raw):
        return raw
    try:
        country = normalise_country(country or "BG")
    except ValidationError:
        country = "BG"
    try:
        return normalise_vat(raw, country)
    except ValidationError:
        return re.sub(r"[\s.\-/]", "", raw).upper()


def _merge_row(draft: _Draft, number: int, cells: dict[str, str], errors: list[RowError]) -> None:
    """A later row of the client of ``draft``: its client cells must agree with the first row's,
    or be empty (they complete it); phones and emails add up."""
    draft.rows.append(number)
    if all(cells.get(c, "") == draft.first.get(c, "") for c in _COMPARED):
        return  # the client's cells repeated, as an export writes them
    for column in CLIENT_COLUMNS:
        value = cells.get(column, "").strip()
        first = draft.cells.get(column, "").strip()
        if not value or column in ("phone", "email"):
            continue  # each row may add phones and emails of the client
        if not first:
            draft.cells[column] = value
            draft.origin[column] = number
        elif not _same(column, value, first, cells, draft.cells):
            errors.append(
                RowError(
                    number,
                    column,
                    f"Differs from row {draft.rows[0]}, the same client: repeat “{first}” or "
                    "leave the cell empty.",
                )
            )


_COMPARED = tuple(c for c in CLIENT_COLUMNS if c not in ("phone", "email"))


def _same(column: str, a: str, b: str, a_cells: dict[str, str], b_cells: dict[str, str]) -> bool:
    if column == "vat_number":
        return _vat_key(a_cells) == _vat_key(b_cells)
    if column in ("name", "customer_group", "region", "responsible", "kind", "status", "country"):
        return a.casefold() == b.casefold()
    if column == "tags":
        return sorted(_split(a)) == sorted(_split(b))
    if column in ("iban", "bic"):
        return re.sub(r"\s", "", a).upper() == re.sub(r"\s", "", b).upper()
    return a == b


def _match(draft: _Draft, key: str, lookups: _Lookups) -> RowError | None:
    name = draft.cells.get("name", "").strip().casefold()
    if draft.key.startswith("vat:"):
        found = lookups.by_vat.get(draft.key[4:], [])
        what = "VAT number"
    else:
        found = lookups.by_name.get(name, []) if name else []
        what = "name"
    if len(found) > 1:
        ids = ", ".join(f"#{i}" for i in found[:5])
        column = "vat_number" if what == "VAT number" else "name"
        return RowError(
            draft.rows[0],
            column,
            f"{len(found)} existing clients have this {what} ({ids}): merge them first, or import "
            "by another key.",
        )
    if found:
        draft.existing_id = found[0]
    return None
