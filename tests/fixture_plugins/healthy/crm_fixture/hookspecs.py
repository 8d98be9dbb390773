"""The extension point crm_fixture owns, added to the contract through ``crm_addhooks``."""

from __future__ import annotations

from core.hookspecs import hookspec


@hookspec
def crm_fixture_extra() -> list[str]:
    """Contributions of other modules to crm_fixture."""
