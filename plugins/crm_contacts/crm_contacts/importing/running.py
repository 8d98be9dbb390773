"""Running an import: the file read twice as a stream, its clients checked, and written, a chunk
at a time.

The first pass reads only what grouping needs: each row's key (its VAT number, or its name) and
the last row of each client. The second reads the rows again, merges each client's rows as they
come, and hands every ``CHUNK`` complete clients to be matched, validated, compared and (importing)
written before the next are read. What is held at any time is one chunk of clients and, for the
whole file, the keys and the names of new clients (for the possible-duplicate check at the end):
memory grows with the number of clients, not with the size of what they hold.

All or nothing: the chunks are written in the caller's transaction, and once any row has an error
nothing more is written; the caller rolls back when the result is not ``valid``.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from marshmallow import ValidationError
from sqlalchemy.orm import Session

from core.bulk import few_collections
from crm_contacts.importing.comparing import _diff, _snapshots, as_stored
from crm_contacts.importing.duplicates import _flag_vat_elsewhere, similar_flags, warn_similar
from crm_contacts.importing.first_pass import _first_pass, _Groups, _rewound
from crm_contacts.importing.parallel import (
    processes_for,
    references,
    start_pool,
    validate_drafts,
    warm_up,
)
from crm_contacts.importing.plan import ImportPlan, PreviewRow, Progress, Report, _Draft, _Lookups
from crm_contacts.importing.planning import KEYS, PREVIEW_ROWS, _match, _merge_row
from crm_contacts.importing.reading import (
    COLUMNS,
    RowError,
    Source,
    data_rows,
    read_header,
    text_lines,
)
from crm_contacts.importing.writing import _insert_clients, _tag_ids, _update_clients
from crm_contacts.search import bulk_search_index

CHUNK = 1000  # clients checked (and written) together


def run_import(
    session: Session,
    source: Source,
    key: str = "vat_number",
    *,
    write: bool = False,
    keep: bool = False,
    report: Report | None = None,
    processes: int | None = None,
    chunk: int = CHUNK,
) -> ImportPlan:
    """Check the CSV ``source`` (bytes, text, or a binary file object, rewound for the second
    pass) and, with ``write``, import it in the session's transaction. With ``keep`` the plan
    keeps every new client and change (``plan.creates``, ``plan.updates``) for ``apply_import``;
    otherwise it keeps their counts only. ``report`` is told of the rows read, then checked.
    ``processes`` validate beside this one (``parallel``; by default, for a big file, as many as
    there are cores); ``chunk`` clients are checked (and written) at a time."""
    if key not in KEYS:
        raise ValueError(f"key must be one of {KEYS}")
    with few_collections():
        return _run_import(session, source, key, write, keep, report, processes, chunk)


def _run_import(
    session: Session,
    source: Source,
    key: str,
    write: bool,
    keep: bool,
    report: Report | None,
    processes: int | None,
    chunk: int,
) -> ImportPlan:
    plan = ImportPlan(key=key)
    warm_up(source, processes)
    try:
        groups = _first_pass(source, key, plan, report)
    except ValidationError as exc:  # not UTF-8
        plan.errors.append(_file_error(exc))
        return plan
    if groups is None:
        return plan
    run = _Run(
        session, plan, groups, write=write, keep=keep, report=report, processes=processes,
        chunk=chunk,
    )  # fmt: skip
    try:
        with bulk_search_index(session) if write else nullcontext() as index:
            run.index = index
            run.second_pass(source)
    except ValidationError as exc:  # the file changed between the passes
        plan.errors.append(_file_error(exc))
    try:
        run.finish()
    finally:
        run.close()
    return plan


def _file_error(exc: ValidationError) -> RowError:
    return RowError(1, "", str(exc.messages[0]))


class _Run:
    """The second pass: clients merged from their rows, then checked and written by chunks."""

    def __init__(
        self,
        session: Session,
        plan: ImportPlan,
        groups: _Groups,
        *,
        write: bool,
        keep: bool,
        report: Report | None,
        processes: int | None,
        chunk: int,
    ) -> None:
        self.session, self.plan, self.groups = session, plan, groups
        self.write, self.keep, self.report = write, keep, report
        self.columns = set(groups.header)
        self.lookups = _Lookups(session)
        self.processes = processes_for(len(groups.last), processes)
        self.pool = start_pool(self.processes) if self.processes else None
        # Chunks handed to the pool: their futures, snapshots, and the rows read with them.
        self.waiting: deque[tuple[list[Future], dict[int, dict[str, Any]], int]] = deque()
        # The possible duplicates among the names of the clients the file adds, known from the
        # first pass: looked for by a process of the pool while the others validate.
        self.new_names = self._new_names()
        self.similar: Future | None = None
        groups.first = {}  # read: let it go
        if self.pool is not None and self.new_names:
            old = list(self.lookups.names.items())
            self.similar = self.pool.submit(similar_flags, self.new_names, old)
            self.new_names = []
        self.added: set[int] = set()  # the first row of every new client (duplicate check)
        self.new: list[_NewName] = []  # importing by name: each new client's VAT number
        self.preview: dict[int, PreviewRow] = {}
        self.tag_ids: dict[str, int] = {}
        self.chunk = chunk
        self.index: Callable[[int, int], None] | None = None  # bulk_search_index's
        self.done = 0

    def second_pass(self, source: Source) -> None:
        reader, header, _ = read_header(text_lines(_rewound(source)))
        pending: dict[str, _Draft] = {}
        ready: list[_Draft] = []
        self._tell(0, "Checking rows")
        for position, (number, cells) in enumerate(data_rows(reader, len(header), None)):
            values = dict(zip(header, cells, strict=False))
            if len(self.preview) < PREVIEW_ROWS:
                self.preview[number] = _preview_row(number, values)
            group_key = self.groups.keys[position]
            draft = pending.get(group_key)
            if draft is None:
                draft = pending[group_key] = _Draft(group_key, [number], dict(values), first=values)
            else:
                _merge_row(draft, number, values, self.plan.errors)
            draft.values[number] = values
            if self.groups.last[group_key] == number:
                ready.append(pending.pop(group_key))
                if len(ready) >= self.chunk:
                    self._chunk(ready)
                    ready = []
        self._chunk(ready + list(pending.values()))
        while self.waiting:
            self._answer()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)

    def _tell(self, done: int, message: str) -> None:
        if self.report is not None:
            self.report(done, self.plan.rows, message)

    def _chunk(self, drafts: list[_Draft]) -> None:
        """Match the clients of a chunk, set aside those the file repeats as stored, and have
        the others validated: here, or by the pool while the next chunks are read (at most two
        chunks wait for their answer: the pool always has the next at hand)."""
        plan, lookups = self.plan, self.lookups
        for draft in drafts:
            if error := _match(draft, plan.key, lookups):
                plan.errors.append(error)
                draft.action = "error"
        existing = [d.existing_id for d in drafts if d.existing_id is not None]
        snapshots = _snapshots(self.session, existing) if existing else {}
        to_check = []
        for draft in drafts:
            snapshot = snapshots.get(draft.existing_id) if draft.existing_id else None
            if (
                snapshot is not None
                and draft.action != "error"
                and as_stored(draft, self.columns, snapshot, lookups)
            ):
                # What the file says of this client is what it holds: nothing to check.
                draft.action = "unchanged"
                plan.unchanged += 1
                self._note(draft)
            else:
                to_check.append(draft)
        self.done += sum(len(d.rows) for d in drafts)
        if self.pool is None:
            checked, errors = validate_drafts(to_check, self.columns, self.lookups)
            self._conclude(checked, errors, snapshots, self.done)
            return
        parts = [to_check[i :: self.processes] for i in range(self.processes)]
        futures = [
            self.pool.submit(validate_drafts, part, self.columns, references(lookups, part))
            for part in parts
            if part
        ]
        self.waiting.append((futures, snapshots, self.done))
        while len(self.waiting) > 2:
            self._answer()

    def _answer(self) -> None:
        futures, snapshots, done = self.waiting.popleft()
        checked, errors = [], []
        for future in futures:
            drafts, found = future.result()
            checked += drafts
            errors += found
        self._conclude(checked, errors, snapshots, done)

    def _conclude(
        self,
        checked: list[_Draft],
        errors: list[RowError],
        snapshots: dict[int, dict[str, Any]],
        done: int,
    ) -> None:
        """The validated clients of a chunk: compared, counted, and (importing) written."""
        plan = self.plan
        plan.errors += errors
        creates, updates = [], []
        for draft in checked:
            snapshot = snapshots.get(draft.existing_id) if draft.existing_id else None
            if draft.action == "error":
                pass
            elif snapshot is None:
                creates.append(draft)
                self.added.add(draft.rows[0])
                if self.plan.key == "name":
                    self.new.append(_name_only(draft))
            elif (change := _diff(draft, snapshot)) is None:
                draft.action = "unchanged"
                plan.unchanged += 1
            else:
                draft.action = "update"
                updates.append(change)
            self._note(draft)
        plan.created += len(creates)
        plan.updated += len(updates)
        if self.keep:
            plan.creates += creates
            plan.updates += updates
        if self.write and plan.valid and (creates or updates):
            self._write(creates, updates)
        self._tell(done, "Checking and writing rows" if self.write else "Checking rows")

    def _note(self, draft: _Draft) -> None:
        for number in draft.rows:
            if number in self.preview:
                self.preview[number].action = draft.action

    def _write(self, creates: list[_Draft], updates: list[Any]) -> None:
        names = {t for d in creates for t in d.tags or ()} | {
            t for c in updates for t in c.tags or ()
        }
        if names - self.tag_ids.keys():
            self.tag_ids.update(_tag_ids(self.session, names - self.tag_ids.keys()))
        if creates:
            self.plan.persons_added += _insert_clients(
                self.session, creates, self.tag_ids, self.index
            )
        if updates:
            self.plan.persons_added += _update_clients(self.session, updates, self.tag_ids)
        self.session.flush()

    def _new_names(self) -> list[tuple[int, str]]:
        """(first row, name) of each client of the file that matches no existing client."""
        lookups, names = self.lookups, []
        for group_key, (row, name) in self.groups.first.items():
            if group_key.startswith("vat:"):
                found = lookups.by_vat.get(group_key[4:])
            else:
                found = lookups.by_name.get(group_key[5:])
            if name and not found:
                names.append((row, name))
        return names

    def finish(self) -> None:
        plan = self.plan
        if self.added:
            if self.similar is not None:
                flags = self.similar.result()
            else:
                flags = similar_flags(self.new_names, list(self.lookups.names.items()))
            # Only the clients the import adds are compared and named: not those of the file
            # with an error (they were compared, not being known to be wrong yet).
            added = self.added
            warn_similar(plan, [
                (row, target, text) for row, target, text in flags
                if row in added and (target[0] == "client" or target[1] in added)
            ])  # fmt: skip
            _flag_vat_elsewhere(plan, self.new, self.lookups, plan.key)
        plan.errors.sort(
            key=lambda e: (e.row, COLUMNS.index(e.column) if e.column in COLUMNS else -1)
        )
        plan.warnings.sort(key=lambda w: w.row)
        notes: dict[int, list[str]] = defaultdict(list)
        for error in plan.errors:
            if error.row in self.preview:
                self.preview[error.row].action = "error"
                notes[error.row].append(
                    str(error).split(", ", 1)[1] if error.column else error.message
                )
        for warning in plan.warnings:
            if warning.row in self.preview:
                notes[warning.row].append(warning.message)
        for number in sorted(self.preview):
            self.preview[number].notes = notes.get(number, [])
            plan.preview.append(self.preview[number])


@dataclass(slots=True)
class _NewName:
    """What the possible-duplicate check needs of a new client (as a ``_Draft`` has it), held
    until the end for every new client of the file: a few hundred bytes, not its draft."""

    rows: list[int]
    data: dict[str, Any]
    existing_id: None = None
    action: str = "create"


def _name_only(draft: _Draft) -> _NewName:
    return _NewName(draft.rows[:1], {"name": draft.data["name"],
                                      "vat_number": draft.data.get("vat_number")})  # fmt: skip


def _preview_row(number: int, cells: dict[str, str]) -> PreviewRow:
    return PreviewRow(
        number,
        cells.get("name", ""),
        cells.get("vat_number", ""),
        cells.get("city", ""),
        cells.get("person_name", ""),
        "error",
    )


def plan_import(
    session: Session,
    content: bytes | str,
    key: str = "vat_number",
    progress: Progress | None = None,
) -> ImportPlan:
    """Read and check ``content`` (a CSV file) and work out what importing it would do, keeping
    every new client and change for ``apply_import``. Writes nothing. ``progress(n)`` is told of
    every ``n`` more rows checked. (A big file is imported with ``run_import``, which holds one
    chunk of it at a time.)"""
    told = [0]

    def report(done: int, total: int | None, _message: str) -> None:
        if progress is not None and total is not None and done > told[0]:
            progress(done - told[0])  # rows checked (not the first pass's rows read)
            told[0] = done

    return run_import(session, content, key, keep=True, report=report)
