"""CRM module: clients, contact persons and the history of contacts."""
