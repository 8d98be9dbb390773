"""The module's pages and JSON API, one module per area; importing them registers their routes."""

from crm_contacts.views import (  # noqa: F401
    agenda,
    api_clients,
    api_history,
    client_file,
    client_forms,
    client_list,
    client_parts,
    clients,
    history,
    imports,
    regions,
    settings,
)
