"""The first pass over an import file: the key of every row (its VAT number, or its name), the
last row of each client (where the second pass knows the client complete), and each client's first
row and name (what the possible-duplicate check compares before the rows are read again)."""

from __future__ import annotations

from collections import defaultdict

from crm_contacts.importing.plan import ImportPlan, Report
from crm_contacts.importing.planning import _vat_key
from crm_contacts.importing.reading import Source, data_rows, read_header, text_lines


class _Groups:
    """What the first pass found: the header, the client (group key) of every data row in file
    order, the last row of each client, and its first row and name."""

    def __init__(self, header: list[str]) -> None:
        self.header = header
        self.keys: list[str] = []
        self.last: dict[str, int] = {}
        self.first: dict[str, tuple[int, str]] = {}


def _rewound(source: Source) -> Source:
    if hasattr(source, "seek"):
        source.seek(0)
    return source


def _first_pass(
    source: Source, key: str, plan: ImportPlan, report: Report | None = None
) -> _Groups | None:
    """Read the keys; ``report(rows, None, message)`` is told every 10,000 rows (how many there
    are is known at the end)."""
    reader, header, errors = read_header(text_lines(_rewound(source)))
    plan.errors.extend(errors)
    plan.columns = tuple(header)
    if any(e.row == 1 for e in errors) or not header:
        # The rows are still counted: the page says how many the file has.
        if header:
            plan.rows = sum(1 for _ in data_rows(reader, len(header), None))
        return None
    groups = _Groups(header)
    name_at, vat_at = header.index("name"), _index(header, "vat_number")
    country_at = _index(header, "country")
    vat_by_name: dict[str, set[str]] = defaultdict(set)
    pending: list[tuple[int, str]] = []  # rows without a VAT number: (position, name)
    numbers: list[int] = []
    names: list[str] = []
    for number, cells in data_rows(reader, len(header), plan.errors):
        names.append(_cell(cells, name_at).strip())
        name = names[-1].casefold()
        vat = ""
        if key == "vat_number" and vat_at is not None:
            vat = _vat_key({"vat_number": _cell(cells, vat_at),
                            "country": _cell(cells, country_at)})  # fmt: skip
        if vat:
            vat_by_name[name].add(vat)
            groups.keys.append("vat:" + vat)
        else:
            pending.append((len(groups.keys), name))
            groups.keys.append("")
        numbers.append(number)
        if report is not None and len(numbers) % 10_000 == 0:
            report(len(numbers), None, "Reading the file")
    for position, name in pending:
        # A row without a VAT number joins the client of the file with the same name, if only
        # one VAT number goes with that name.
        vats = vat_by_name.get(name, ())
        groups.keys[position] = "vat:" + next(iter(vats)) if len(vats) == 1 else "name:" + name
    for group_key, number, name in zip(groups.keys, numbers, names, strict=True):
        groups.last[group_key] = number
        first = groups.first.setdefault(group_key, (number, name))
        if name and not first[1]:
            groups.first[group_key] = (first[0], name)  # as the client's cells are completed
    plan.rows = len(numbers)
    return groups


def _index(header: list[str], column: str) -> int | None:
    return header.index(column) if column in header else None


def _cell(cells: list[str], at: int | None) -> str:
    return cells[at] if at is not None and at < len(cells) else ""
