"""Report definitions: what ``crm_reports`` returns; ``crm_reports`` (the plugin) runs them."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ReportDefinition:
    """A report over one registered model.

    ``model`` is the registry name (the table name); columns, filters and group_by are its field
    names; aggregates map a field to ``sum``, ``count``, ``avg``, ``min`` or ``max``; ``chart`` is
    ``bar``, ``line``, ``pie`` or None.
    """

    id: str
    title: str
    model: str
    columns: tuple[str, ...]
    filters: tuple[str, ...] = ()
    group_by: tuple[str, ...] = ()
    aggregates: dict[str, str] = field(default_factory=dict)
    chart: str | None = None
    order: int = 100
    module: str = ""
