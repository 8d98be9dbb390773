"""CSV import of materials and their opening stock, for the command and the settings page alike.

One row a material: ``code`` (the key: a known code updates the material), ``name``, ``kind``,
``unit``, ``unit_cost``, ``returnable`` (yes/no), ``reorder_level``, and optionally ``location``
(a warehouse's name) with ``quantity``, received there as opening stock. Every row is checked
before anything is written; one error anywhere and nothing is imported.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_advertising.models import Location, Material, MaterialKind
from crm_advertising.schemas import MaterialSchema, quantity
from crm_advertising.service import Actor, record_movement
from crm_contacts.importing.reading import RowError, decode

COLUMNS = (
    "code",
    "name",
    "kind",
    "unit",
    "unit_cost",
    "returnable",
    "reorder_level",
    "location",
    "quantity",
)
YES = {"yes", "y", "true", "1", "x"}
NO = {"no", "n", "false", "0", ""}
MAX_FIELD = 10_000  # characters in one cell: more is not a material's data


@dataclass
class ImportResult:
    errors: list[RowError] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    received: int = 0


def _rows(text: str, result: ImportResult) -> list[tuple[int, dict[str, str]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in next(reader, [])]
    for column in header:
        if column not in COLUMNS:
            result.errors.append(
                RowError(
                    1,
                    column or "(empty)",
                    "Unknown column. The columns are: " + ", ".join(COLUMNS) + ".",
                )
            )
    for required in ("code", "name"):
        if required not in header:
            result.errors.append(RowError(1, required, "The column is required."))
    rows = []
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header) or any(len(c) > MAX_FIELD for c in cells):
            result.errors.append(RowError(number, "", "Too many or too long cells."))
            continue
        rows.append((number, {h: c.strip() for h, c in zip(header, cells, strict=False)}))
    return rows


def import_materials(
    session: Session,
    content: bytes | str,
    actor: Actor,
    day: date,
    progress: Callable[[int], Any] | None = None,
) -> ImportResult:
    """Check every row, then write all of them (the caller commits), or nothing."""
    result = ImportResult()
    try:
        text = decode(content)
    except ValidationError as error:
        result.errors.append(RowError(1, "", " ".join(error.messages)))
        return result
    if "\x00" in text:
        result.errors.append(RowError(1, "", "The file holds NUL characters: it is not a CSV."))
        return result
    rows = _rows(text, result)
    if result.errors:
        return result
    kinds = {k.name.casefold(): k.id for k in session.scalars(select(MaterialKind))}
    kinds.update({k.code: k.id for k in session.scalars(select(MaterialKind))})
    places = {
        p.name.casefold(): p
        for p in session.scalars(
            select(Location).where(Location.kind == "warehouse", Location.active)
        )
    }
    existing = {m.code: m for m in session.scalars(select(Material))}
    planned: list[tuple[dict[str, Any], Location | None, int]] = []
    seen: set[str] = set()
    for number, cells in rows:
        errors_before = len(result.errors)
        raw: dict[str, Any] = {
            k: cells[k]
            for k in ("code", "name", "unit", "unit_cost", "reorder_level")
            if cells.get(k)
        }
        returnable = cells.get("returnable", "").lower()
        if returnable not in YES | NO:
            result.errors.append(RowError(number, "returnable", "Write yes or no."))
        raw["returnable"] = returnable in YES
        if cells.get("kind"):
            kind_id = kinds.get(cells["kind"].casefold())
            if kind_id is None:
                result.errors.append(RowError(number, "kind", f"No kind named {cells['kind']}."))
            raw["kind_id"] = kind_id
        raw.setdefault("unit_cost", "0")
        try:
            data = MaterialSchema().load(raw)
        except ValidationError as error:
            for column, messages in error.messages_dict.items():
                result.errors.append(RowError(number, column, " ".join(messages)))
            data = {}
        if data.get("code") in seen:
            result.errors.append(RowError(number, "code", "The code appears twice in the file."))
        seen.add(data.get("code", ""))
        place, count = None, 0
        if cells.get("quantity") or cells.get("location"):
            place = places.get(cells.get("location", "").casefold())
            if place is None:
                result.errors.append(RowError(number, "location", "Name an open warehouse."))
            try:
                count = quantity().deserialize(cells.get("quantity") or None)
            except ValidationError as error:
                result.errors.append(RowError(number, "quantity", " ".join(error.messages)))
        if len(result.errors) == errors_before:
            planned.append((data, place, count))
        if progress:
            progress(1)
    if result.errors:
        return result
    for data, place, count in planned:
        material = existing.get(data["code"])
        if material is None:
            material = Material(**data)
            session.add(material)
            result.created += 1
        else:
            for name, value in data.items():
                setattr(material, name, value)
            result.updated += 1
        session.flush()
        if place is not None and count:
            record_movement(
                session,
                actor,
                {
                    "kind": "receipt",
                    "day": day,
                    "material_id": material.id,
                    "quantity": count,
                    "to_location_id": place.id,
                    "unit_cost": data.get("unit_cost"),
                    "note": "Opening stock (CSV import)",
                },
            )
            result.received += 1
    return result
