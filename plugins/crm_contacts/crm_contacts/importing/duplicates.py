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

import numpy
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


def _blocks(key: NameKey, frequency: Counter[str]) -> list[tuple]:
    """The blocks a long name is compared within. A small typo changes one word, and two names
    differing in one word share the rarer of their other words: each name's two rarest words
    (by frequency, then spelling, the same order for every name) always include it. A name of
    one word is found by its first three letters or its last three (a typo spares one end)."""
    if len(key.words) >= 2:
        rarest = sorted(key.words, key=lambda w: (frequency[w], w))[:2]
        return [("word", word, key.numbers) for word in rarest]
    (word,) = key.words
    # In this order, not a set's (which follows the process's string hashing): the warnings of
    # one file come out alike in every run. A word of three letters or fewer is one block.
    return list(dict.fromkeys([("start", word[:3], key.numbers), ("end", word[-3:], key.numbers)]))


# A flag: (the row flagged, what it is flagged for: ("client", id) or ("row", row), the text).
Flag = tuple[int, tuple[str, int], str]


def similar_flags(new: list[tuple[int, str]], old: list[tuple[int, str]]) -> list[Flag]:
    """The possible duplicates among ``new`` clients ((first row, name), in file order) and
    against ``old`` ones ((id, name)): flags in the order they are found (equal keys first).

    Equal keys are found through dictionaries; long names are compared fuzzily only within their
    blocks (``_blocks``: small, so the cost grows with the number of names, not its square), and
    only with names of a length that can reach the threshold (the ratio cannot exceed 90 when one
    name is more than 11/9 of the other).
    """
    keyed_new = [(key, row, name) for row, name in new if (key := name_key(name)) is not None]
    keyed_old = [(key, id_, name) for id_, name in old if (key := name_key(name)) is not None]
    flags: list[Flag] = []
    exact_old: dict[str, tuple[int, str]] = {}
    for key, id_, name in keyed_old:
        for text in key.exact:
            exact_old.setdefault(text, (id_, name))
    exact_new: dict[str, tuple[int, str]] = {}
    for key, row, name in keyed_new:
        for text in key.exact:
            if (found := exact_old.get(text)) is not None:
                flags.append((row, ("client", found[0]), f"{found[1]} (#{found[0]})"))
            first = exact_new.setdefault(text, (row, name))
            if first[0] != row:
                flags.append((row, ("row", first[0]), f"{first[1]} (row {first[0]})"))

    frequency: Counter[str] = Counter()
    for key, *_ in (*keyed_old, *keyed_new):
        frequency.update(key.words)
    new_by_block: dict[tuple, list[tuple[int, str, int, str]]] = defaultdict(list)
    for key, row, name in keyed_new:
        if len(key.fuzzy) >= FUZZY_FROM:
            for block in _blocks(key, frequency):
                new_by_block[block].append((len(key.fuzzy), key.fuzzy, row, name))
    old_by_block: dict[tuple, list[tuple[int, str, int, str]]] = defaultdict(list)
    for key, id_, name in keyed_old:
        if len(key.fuzzy) >= FUZZY_FROM:
            for block in _blocks(key, frequency):
                if block in new_by_block:
                    old_by_block[block].append((len(key.fuzzy), key.fuzzy, id_, name))
    del keyed_new, keyed_old

    for block, members in new_by_block.items():
        members.sort(key=lambda item: (item[0], item[2]))
        olds = sorted(old_by_block.get(block, []), key=lambda item: item[0])
        new_texts = [item[1] for item in members]
        new_lengths = [item[0] for item in members]
        old_found = _similar(new_texts, new_lengths, [o[1] for o in olds], [o[0] for o in olds])
        new_found = _similar(new_texts, new_lengths, new_texts, new_lengths, later=True)
        for index, (_, _, row, name) in enumerate(members):
            for at in old_found.get(index, ()):
                _, _, id_, old_name = olds[at]
                flags.append((row, ("client", id_), f"{old_name} (#{id_})"))
            for at in new_found.get(index, ()):
                other = members[at]
                if other[2] == row:
                    continue
                (first, first_name), (later, _) = sorted(((row, name), (other[2], other[3])))
                flags.append((later, ("row", first), f"{first_name} (row {first})"))
    return flags


# Texts compared at a time with their choices (a matrix of scores of this many rows).
ROWS = 256
BEST = 3  # matches kept per name, the most similar first


def _similar(
    texts: list[str],
    lengths: list[int],
    choices: list[str],
    choice_lengths: list[int],
    *,
    later: bool = False,
) -> dict[int, list[int]]:
    """For each of ``texts`` (sorted by length), the indexes of at most ``BEST`` of ``choices``
    (sorted by length) as similar as ``SIMILARITY``, the most similar first (then in order), among
    those of a length that can reach it (the ratio cannot exceed 90 when one text is more than
    11/9 of the other); with ``later``, ``choices`` are ``texts`` and only those after each
    count. rapidfuzz's ``cdist`` scores ``ROWS`` texts against their choices at once, in C:
    one ``extract`` per text cost 7 of the 8.5 s of 100,000 names."""
    found: dict[int, list[int]] = {}
    for first in range(0, len(texts), ROWS):
        last = min(first + ROWS, len(texts))
        start = first + 1 if later else bisect.bisect_left(choice_lengths, _low(lengths[first]))
        stop = bisect.bisect_right(choice_lengths, _high(lengths[last - 1]))
        if start >= stop:
            continue
        scores = process.cdist(
            texts[first:last], choices[start:stop], scorer=fuzz.ratio, processor=None,
            score_cutoff=SIMILARITY, dtype=numpy.float32, workers=1,
        )  # fmt: skip
        matches: dict[int, list[tuple[float, int]]] = defaultdict(list)
        for row, column in zip(*numpy.nonzero(scores), strict=True):
            index, at = first + int(row), start + int(column)
            reach = choice_lengths[at]
            if (not later or at > index) and _low(lengths[index]) <= reach <= _high(lengths[index]):
                matches[index].append((-float(scores[row, column]), at))
        for index, scored in matches.items():
            found[index] = [at for _, at in sorted(scored)[:BEST]]
    return found


def _low(length: int) -> int:
    return -(-9 * length // 11)


def _high(length: int) -> int:
    return 11 * length // 9


def _flag_similar(plan: ImportPlan, drafts: list[_Draft], lookups: _Lookups) -> None:
    """Warn of new clients whose names look like an existing client's or another new one's."""
    new = [(d.rows[0], d.data["name"]) for d in drafts if d.action == "create"]
    warn_similar(plan, similar_flags(new, list(lookups.names.items())))


def warn_similar(plan: ImportPlan, flags: list[Flag]) -> None:
    """The warnings of the flags of ``similar_flags``: each row once, naming at most three
    clients, each once."""
    found: dict[int, list[str]] = defaultdict(list)
    seen: dict[int, set[tuple[str, int]]] = defaultdict(set)
    for row, target, text in flags:
        if target not in seen[row]:
            seen[row].add(target)
            found[row].append(text)
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
