"""Checking the clients of a big file on every core.

``ClientSchema`` costs about 0.3 ms a client (marshmallow's nested loads of phones, emails and
persons, and phonenumbers), most of what an import of new clients costs. So for a file of more
than a few chunks, processes beside the one that reads and writes validate a chunk while it reads
the next and writes the last (``running._Run``).

The processes start from a clean interpreter (the ``forkserver`` method: no copy of the job
worker's threads, connections or locks) that imported the schemas once; they are handed drafts
with the few lookups ``_validate`` needs, and touch no database.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import forkserver
from types import SimpleNamespace
from typing import Any

from crm_contacts.importing.plan import _Draft, _Lookups
from crm_contacts.importing.reading import RowError, Source
from crm_contacts.importing.validating import _validate
from crm_contacts.importing.writing import search_text_for
from crm_contacts.schemas import ClientSchema

# Processes at most (one reads and writes beside them); a file of fewer clients than
# ``PARALLEL_FROM`` is checked in the importing process, where starting them would cost more.
MAX_PROCESSES = 4
PARALLEL_FROM = 5000


def processes_for(clients: int, wanted: int | None = None) -> int:
    """How many processes check a file of ``clients`` clients (0: the importing one alone).
    ``wanted`` overrides the choice (the tests ask for 2 on small files)."""
    if wanted is not None:
        return wanted
    if clients < PARALLEL_FROM:
        return 0
    return min(os.cpu_count() or 1, MAX_PROCESSES) if (os.cpu_count() or 1) > 1 else 0


# A file of this many bytes or more (some 3,000 clients) has its processes' server started
# before the first pass.
WARM_FROM_BYTES = 2_000_000


def warm_up(source: Source, processes: int | None) -> None:
    """For a big file, start the server the processes start from (``forkserver``) now: it
    imports the schemas (0.7 s of CPU) while the first pass reads the file, not after it."""
    if processes == 0 or (processes is None and (os.cpu_count() or 1) < 2):
        return
    if isinstance(source, bytes | str):
        size = len(source)
    else:
        position = source.tell()
        size = source.seek(0, os.SEEK_END)
        source.seek(position)
    if size >= WARM_FROM_BYTES:
        multiprocessing.get_context("forkserver").set_forkserver_preload([__name__])
        forkserver.ensure_running()


def start_pool(processes: int) -> ProcessPoolExecutor:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return ProcessPoolExecutor(max_workers=processes, mp_context=context)


def references(lookups: _Lookups, drafts: Iterable[_Draft]) -> SimpleNamespace:
    """What ``_validate`` reads of the lookups for these drafts, without their ORM objects."""
    return SimpleNamespace(
        groups=lookups.groups,
        regions=lookups.regions,
        users=lookups.users,
        countries={
            d.existing_id: lookups.countries.get(d.existing_id)
            for d in drafts
            if d.existing_id is not None
        },
    )


_schema: ClientSchema | None = None


def validate_drafts(
    drafts: list[_Draft], columns: set[str], refs: Any
) -> tuple[list[_Draft], list[RowError]]:
    """``_validate`` for each draft (in a pool's process, or inline), and the search text of
    each valid one; the drafts come back without their cells, which nothing after validation
    reads (less to send back)."""
    global _schema
    if _schema is None:
        _schema = ClientSchema()
    rows = {number: values for d in drafts for number, values in d.values.items()}
    errors: list[RowError] = []
    for draft in drafts:
        _validate(draft, rows, columns, refs, _schema, errors)
        if draft.action != "error" and draft.existing_id is None:
            draft.search_text = search_text_for(draft)
        draft.values, draft.cells, draft.first, draft.origin = {}, {}, {}, {}
    return drafts, errors
