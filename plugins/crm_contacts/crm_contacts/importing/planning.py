"""Planning an import: the file read, its rows grouped into clients, each client matched with an
existing one (by the key), validated and compared, possible duplicates flagged. The result, an
``ImportPlan``, is what ``apply_import`` carries out; planning writes nothing."""

from __future__ import annotations

import functools
import re
from collections import defaultdict

from marshmallow import ValidationError
from sqlalchemy.orm import Session

from crm_contacts.importing.comparing import _plan_changes
from crm_contacts.importing.duplicates import _flag_similar, _flag_vat_elsewhere
from crm_contacts.importing.plan import BATCH, ImportPlan, PreviewRow, Progress, _Draft, _Lookups
from crm_contacts.importing.reading import (
    CLIENT_COLUMNS,
    COLUMNS,
    RowError,
    _split,
    decode,
    read_rows,
)
from crm_contacts.importing.validating import _validate
from crm_contacts.schemas import ClientSchema
from crm_contacts.validation import normalise_country, normalise_vat

KEYS = ("vat_number", "name")
PREVIEW_ROWS = 20


def _vat_key(cells: dict[str, str]) -> str:
    """The normalised VAT number for grouping and matching; what is invalid is compacted only
    (its row gets an error from the schema anyway)."""
    return _compact_vat(cells.get("vat_number", "").strip(), cells.get("country", "").strip())


@functools.lru_cache(maxsize=4096)
def _compact_vat(raw: str, country: str) -> str:
    if not raw:
        return ""
    try:
        country = normalise_country(country or "BG")
    except ValidationError:
        country = "BG"
    try:
        return normalise_vat(raw, country)
    except ValidationError:
        return re.sub(r"[\s.\-/]", "", raw).upper()


def _group_rows(
    key: str, rows: list[tuple[int, dict[str, str]]], errors: list[RowError]
) -> list[_Draft]:
    """Rows with the same key become one draft; rows without a VAT number join the client of the
    file with the same name, if there is exactly one."""
    drafts: dict[str, _Draft] = {}
    vat_by_name: dict[str, set[str]] = defaultdict(set)
    keyed: list[tuple[int, dict[str, str], str]] = []
    for number, cells in rows:
        name = cells.get("name", "").strip().casefold()
        vat = _vat_key(cells) if key == "vat_number" else ""
        if vat:
            vat_by_name[name].add(vat)
        keyed.append((number, cells, vat))
    for number, cells, vat in keyed:
        name = cells.get("name", "").strip().casefold()
        if vat:
            group_key = "vat:" + vat
        elif len(vat_by_name.get(name, ())) == 1:
            group_key = "vat:" + next(iter(vat_by_name[name]))
        else:
            group_key = "name:" + name
        draft = drafts.get(group_key)
        if draft is None:
            drafts[group_key] = _Draft(group_key, [number], dict(cells), first=cells)
            continue
        draft.rows.append(number)
        if all(cells.get(c, "") == draft.first.get(c, "") for c in _COMPARED):
            continue  # the client's cells repeated, as an export writes them
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
    return list(drafts.values())


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


def plan_import(
    session: Session,
    content: bytes | str,
    key: str = "vat_number",
    progress: Progress | None = None,
) -> ImportPlan:
    """Read and check ``content`` (a CSV file) and work out what importing it would do. Writes
    nothing. ``progress(n)`` is told of every ``n`` rows checked."""
    if key not in KEYS:
        raise ValueError(f"key must be one of {KEYS}")
    plan = ImportPlan(key=key)
    try:
        text = decode(content)
    except ValidationError as exc:
        plan.errors.append(RowError(1, "", str(exc.messages[0])))
        return plan
    header, records, errors = read_rows(text)
    plan.errors.extend(errors)
    plan.columns = tuple(header)
    plan.rows = len(records)
    if any(e.row == 1 for e in errors):
        return plan
    columns = set(header)
    rows = {number: dict(zip(header, cells, strict=False)) for number, cells in records}
    drafts = _group_rows(key, list(rows.items()), plan.errors)
    lookups = _Lookups(session)
    schema = ClientSchema()
    done = 0
    for draft in drafts:
        if error := _match(draft, key, lookups):
            plan.errors.append(error)
            draft.action = "error"
        _validate(draft, rows, columns, lookups, schema, plan.errors)
        if progress is not None:
            done += len(draft.rows)
            if done >= BATCH:
                progress(done)
                done = 0
    if progress is not None and done:
        progress(done)
    good = [d for d in drafts if d.action != "error"]
    _plan_changes(session, good, plan)
    _flag_similar(plan, good, lookups)
    _flag_vat_elsewhere(plan, good, lookups, key)
    plan.errors.sort(key=lambda e: (e.row, COLUMNS.index(e.column) if e.column in COLUMNS else -1))
    plan.warnings.sort(key=lambda w: w.row)
    _preview(plan, drafts, rows)
    return plan


def _preview(plan: ImportPlan, drafts: list[_Draft], rows: dict[int, dict[str, str]]) -> None:
    action = {number: d.action for d in drafts for number in d.rows}
    action.update({e.row: "error" for e in plan.errors})
    notes: dict[int, list[str]] = defaultdict(list)
    for error in plan.errors:
        notes[error.row].append(str(error).split(", ", 1)[1] if error.column else error.message)
    for warning in plan.warnings:
        notes[warning.row].append(warning.message)
    for number in sorted(rows)[:PREVIEW_ROWS]:
        cells = rows[number]
        plan.preview.append(
            PreviewRow(
                number,
                cells.get("name", ""),
                cells.get("vat_number", ""),
                cells.get("city", ""),
                cells.get("person_name", ""),
                action.get(number, "error"),
                notes.get(number, []),
            )
        )
