"""Possible duplicates among the new clients of a file: names like another client's, and (importing
by name) VAT numbers that another client has. Warnings only: they do not stop the import."""

from __future__ import annotations

import bisect
from collections import defaultdict

from rapidfuzz import fuzz, process

from crm_contacts.importing.plan import ImportPlan, RowWarning, _Draft, _Lookups

SIMILARITY = 90


def _prepare(name: str) -> str:
    # token_sort_ratio is the plain ratio of the names' sorted words: sorting once per name, and
    # not once per comparison, is what keeps 100,000 names in seconds.
    return " ".join(sorted(name.casefold().split()))


def _flag_similar(plan: ImportPlan, drafts: list[_Draft], lookups: _Lookups) -> None:
    """Warn of new clients whose names look like an existing client's or another new one's.

    Compared within blocks of the same first letter, and only with names of a length that can
    reach the threshold (the ratio cannot exceed 90 when one name is more than 11/9 of the other).
    """
    new_by_block: dict[str, list[tuple[int, str, _Draft]]] = defaultdict(list)
    for draft in (d for d in drafts if d.action == "create"):
        prepared = _prepare(draft.data["name"])
        if prepared:
            new_by_block[draft.data["name"].strip().casefold()[:1]].append(
                (len(prepared), prepared, draft)
            )
    old_by_block: dict[str, list[tuple[int, str, int]]] = defaultdict(list)
    for id_, name in lookups.names.items():
        prepared = _prepare(name)
        block = name.strip().casefold()[:1]
        if prepared and block in new_by_block:
            old_by_block[block].append((len(prepared), prepared, id_))
    found: dict[int, list[str]] = defaultdict(list)
    for block, new in new_by_block.items():
        new.sort(key=lambda item: item[0])
        old = sorted(old_by_block.get(block, []), key=lambda item: item[0])
        old_lengths = [item[0] for item in old]
        old_names = [item[1] for item in old]
        new_lengths = [item[0] for item in new]
        new_names = [item[1] for item in new]
        for index, (length, prepared, draft) in enumerate(new):
            low, high = -(-9 * length // 11), 11 * length // 9
            start, stop = (
                bisect.bisect_left(old_lengths, low),
                bisect.bisect_right(old_lengths, high),
            )
            for _, _score, at in process.extract(
                prepared, old_names[start:stop], scorer=fuzz.ratio, processor=None,
                score_cutoff=SIMILARITY, limit=3,
            ):  # fmt: skip
                id_ = old[start + at][2]
                if id_ != draft.existing_id:
                    found[draft.rows[0]].append(f"{lookups.names[id_]} (#{id_})")
            stop = bisect.bisect_right(new_lengths, high)
            for _, _score, at in process.extract(
                prepared, new_names[index + 1 : stop], scorer=fuzz.ratio, processor=None,
                score_cutoff=SIMILARITY, limit=3,
            ):  # fmt: skip
                other = new[index + 1 + at][2]
                first, later = sorted((draft, other), key=lambda d: d.rows[0])
                found[later.rows[0]].append(f"{first.data['name']} (row {first.rows[0]})")
    for row, names in found.items():
        plan.warnings.append(RowWarning(row, "Possible duplicate of " + "; ".join(names[:3]) + "."))


def _flag_vat_elsewhere(
    plan: ImportPlan, drafts: list[_Draft], lookups: _Lookups, key: str
) -> None:
    """Importing by name, a VAT number that another client has is worth a look."""
    if key != "name":
        return
    for draft in drafts:
        vat = draft.data.get("vat_number")
        others = [i for i in lookups.by_vat.get(vat, []) if i != draft.existing_id] if vat else []
        if others:
            names = "; ".join(f"{lookups.names[i]} (#{i})" for i in others[:3])
            plan.warnings.append(
                RowWarning(draft.rows[0], f"Possible duplicate of {names}: same VAT number.")
            )
