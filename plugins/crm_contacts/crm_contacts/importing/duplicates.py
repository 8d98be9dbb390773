"""Possible duplicates among the new clients of a file: names like another client's, and (importing
by name) VAT numbers that another client has. Warnings only: they do not stop the import.

What a person calls the same name: equal once case, punctuation, spacing and the legal form
("Ltd", "ООД", "GmbH"...) are set aside ("Acme Ltd" and "ACME ltd."; "Bio-prom" and "Bioprom"), or
a long name with a small typo ("Petrov Trading" and "Petrov Tradng"). Names that differ in a
number are different clients ("Client 12" and "Client 13", "Shop 3" and "Shop 4"): the numbers of
two names must be the same for them to be compared at all.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from crm_contacts.importing.plan import ImportPlan, RowWarning, _Draft, _Lookups

SIMILARITY = 90
# Shorter names (legal form aside) are flagged only when equal: one letter is a big part of them.
FUZZY_FROM = 8
# Trailing words that name a legal form, not the company (casefolded, dots removed).
LEGAL_FORMS = frozenset({
    "ltd", "limited", "llc", "llp", "plc", "inc", "incorporated", "corp", "corporation", "co",
    "gmbh", "ag", "kg", "ohg", "ug", "mbh", "sa", "sas", "sarl", "srl", "spa", "bv", "nv", "oy",
    "ab", "aps", "oü", "ood", "eood", "ad", "ead", "et", "sd", "kd", "kda", "dooel", "doo", "dd",
    "оод", "еоод", "ад", "еад", "ет", "сд", "кд", "кда",
})  # fmt: skip
_INITIAL_DOTS = re.compile(r"(?<=\w)\.(?=\w)")  # "E.O.O.D." is "EOOD."
_NOT_WORD = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class NameKey:
    """A name as the comparison sees it: ``exact`` keys (words in order, glued; words sorted)
    that equal names share, the ``fuzzy`` text (words sorted), its ``words`` and its
    ``numbers`` (the words with a digit), outside of which nothing is compared."""

    exact: tuple[str, str]
    fuzzy: str
    words: tuple[str, ...]
    numbers: tuple[str, ...]


def name_key(name: str) -> NameKey | None:
    words = _NOT_WORD.sub(" ", _INITIAL_DOTS.sub("", name.casefold())).split()
    while len(words) > 1 and words[-1] in LEGAL_FORMS:
        words.pop()
    if not words:
        return None
    ordered = sorted(words)
    # Sorting once per name, not once per comparison, is what keeps 100,000 names in seconds.
    fuzzy = " ".join(ordered)
    numbers = tuple(w for w in ordered if any(c.isdigit() for c in w))
    return NameKey(
        ("".join(words), "".join(ordered)), fuzzy, tuple(dict.fromkeys(ordered)), numbers
    )


def _blocks(key: NameKey, frequency: Counter[str]) -> set[tuple]:
    """The blocks a long name is compared within. A small typo changes one word, and two names
    differing in one word share the rarer of their other words: each name's two rarest words
    (by frequency, then spelling, the same order for every name) always include it. A name of
    one word is found by its first three letters or its last three (a typo spares one end)."""
    if len(key.words) >= 2:
        rarest = sorted(key.words, key=lambda w: (frequency[w], w))[:2]
        return {("word", word, key.numbers) for word in rarest}
    (word,) = key.words
    return {("start", word[:3], key.numbers), ("end", word[-3:], key.numbers)}


def _flag_similar(plan: ImportPlan, drafts: list[_Draft], lookups: _Lookups) -> None:
    """Warn of new clients whose names look like an existing client's or another new one's.

    Equal keys are found through dictionaries; long names are compared fuzzily only within their
    blocks (``_blocks``: small, so the cost grows with the number of names, not its square), and
    only with names of a length that can reach the threshold (the ratio cannot exceed 90 when one
    name is more than 11/9 of the other).
    """
    found: dict[int, list[str]] = defaultdict(list)
    seen: dict[int, set[tuple[str, int]]] = defaultdict(set)  # what each row was flagged for

    def flag(draft: _Draft, target: tuple[str, int], text: str) -> None:
        if target not in seen[draft.rows[0]]:
            seen[draft.rows[0]].add(target)
            found[draft.rows[0]].append(text)

    new = [(name_key(d.data["name"]), d) for d in drafts if d.action == "create"]
    new = [(key, d) for key, d in new if key is not None]
    old = [(name_key(name), id_) for id_, name in lookups.names.items()]
    old = [(key, id_) for key, id_ in old if key is not None]

    exact_old: dict[str, int] = {}
    for key, id_ in old:
        for exact in key.exact:
            exact_old.setdefault(exact, id_)
    exact_new: dict[str, _Draft] = {}
    for key, draft in new:
        for exact in key.exact:
            id_ = exact_old.get(exact)
            if id_ is not None and id_ != draft.existing_id:
                flag(draft, ("client", id_), f"{lookups.names[id_]} (#{id_})")
            first = exact_new.setdefault(exact, draft)
            if first is not draft:
                flag(draft, ("row", first.rows[0]), f"{first.data['name']} (row {first.rows[0]})")

    frequency: Counter[str] = Counter()
    for key, _ in (*old, *new):
        frequency.update(key.words)
    new_by_block: dict[tuple, list[tuple[int, str, _Draft]]] = defaultdict(list)
    for key, draft in new:
        if len(key.fuzzy) >= FUZZY_FROM:
            for block in _blocks(key, frequency):
                new_by_block[block].append((len(key.fuzzy), key.fuzzy, draft))
    old_by_block: dict[tuple, list[tuple[int, str, int]]] = defaultdict(list)
    for key, id_ in old:
        if len(key.fuzzy) >= FUZZY_FROM:
            for block in _blocks(key, frequency):
                if block in new_by_block:
                    old_by_block[block].append((len(key.fuzzy), key.fuzzy, id_))

    for block, members in new_by_block.items():
        members.sort(key=lambda item: (item[0], item[2].rows[0]))
        olds = sorted(old_by_block.get(block, []), key=lambda item: item[0])
        old_lengths = [item[0] for item in olds]
        old_names = [item[1] for item in olds]
        new_lengths = [item[0] for item in members]
        new_names = [item[1] for item in members]
        for index, (length, text, draft) in enumerate(members):
            low, high = -(-9 * length // 11), 11 * length // 9
            start = bisect.bisect_left(old_lengths, low)
            stop = bisect.bisect_right(old_lengths, high)
            for _, _score, at in process.extract(
                text, old_names[start:stop], scorer=fuzz.ratio, processor=None,
                score_cutoff=SIMILARITY, limit=3,
            ):  # fmt: skip
                id_ = olds[start + at][2]
                if id_ != draft.existing_id:
                    flag(draft, ("client", id_), f"{lookups.names[id_]} (#{id_})")
            stop = bisect.bisect_right(new_lengths, high)
            for _, _score, at in process.extract(
                text, new_names[index + 1 : stop], scorer=fuzz.ratio, processor=None,
                score_cutoff=SIMILARITY, limit=3,
            ):  # fmt: skip
                other = members[index + 1 + at][2]
                if other is draft:
                    continue
                first, later = sorted((draft, other), key=lambda d: d.rows[0])
                flag(later, ("row", first.rows[0]), f"{first.data['name']} (row {first.rows[0]})")
    for row, names in sorted(found.items()):
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
