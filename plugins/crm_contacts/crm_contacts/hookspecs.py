"""Extension points crm_contacts owns (added to the plugin manager through ``crm_addhooks``)."""

from __future__ import annotations

from core.hookspecs import hookspec


@hookspec
def crm_client_file_sections(client, user) -> list:
    """(being written)"""
