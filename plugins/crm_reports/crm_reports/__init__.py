"""CRM module: the report generator."""
