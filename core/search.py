"""Global search: hits contributed by every installed module through ``crm_search``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SearchHit:
    title: str
    url: str
    kind: str  # what the record is, for the user: "Client", "Task"...
    snippet: str = ""
    order: int = 100
