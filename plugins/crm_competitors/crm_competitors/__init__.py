"""CRM module: competitors and the changes in their strategy."""
