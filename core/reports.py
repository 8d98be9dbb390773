"""Report definitions: what ``crm_reports`` returns; ``crm_reports`` (the plugin) runs them.

A report is a *spec*: one JSON-serialisable dict, the same in the report generator's web UI, its
API, its CLI, saved reports and plugin definitions (the reference is in ``docs/plugins.md``)::

    {"model": "crm_sales_line",
     "filters": [{"field": "date", "op": "this_year"}],
     "group_by": [{"field": "client.customer_group.name"}, {"field": "date", "bucket": "quarter"}],
     "measures": [{"field": "net_amount", "agg": "sum"}],
     "pivot": "date",
     "chart": {"type": "bar"}}

A definition either gives that spec (``spec=``) or, as plugins written before the spec existed do,
``columns``, ``filters``, ``group_by``, ``aggregates`` and ``chart``: ``as_spec()`` turns those
into the same spec, so both kinds run the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ReportDefinition:
    """A ready-made report over one registered model.

    ``model`` is the registry name (the table name). With ``spec`` the report is that spec (its
    ``model`` key may be left out: ``model`` fills it). Without it, the older form: ``columns``,
    ``filters`` (fields offered as filters), ``group_by`` (field names), ``aggregates`` (a field
    mapped to ``sum``, ``count``, ``avg``, ``min`` or ``max``) and ``chart`` (``bar``, ``line``,
    ``pie`` or None).
    """

    id: str
    title: str
    model: str
    columns: tuple[str, ...] = ()
    filters: tuple[str, ...] = ()
    group_by: tuple[str, ...] = ()
    aggregates: dict[str, str] = field(default_factory=dict)
    chart: str | None = None
    order: int = 100
    module: str = ""
    spec: dict[str, Any] | None = None
    description: str = ""

    def as_spec(self) -> dict[str, Any]:
        """The report as a spec (a new dict each call: callers may change it)."""
        if self.spec is not None:
            return {**_deep_copy(self.spec), "model": self.spec.get("model", self.model)}
        spec: dict[str, Any] = {
            "model": self.model,
            "filters": [],
            "group_by": [{"field": name} for name in self.group_by],
            "measures": [{"field": name, "agg": agg} for name, agg in self.aggregates.items()],
            "columns": [] if self.group_by else list(self.columns),
            "filter_fields": list(self.filters),
        }
        if self.chart and self.group_by:
            spec["chart"] = {"type": self.chart, "x": self.group_by[0]}
            if len(self.group_by) > 1:
                spec["chart"]["series"] = self.group_by[1]
        return spec


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_deep_copy(v) for v in value]
    return value
