"""The module's pages and JSON API, one module per area; importing them registers their routes."""

from crm_tasks.views import api, board, monitoring, pages, settings  # noqa: F401
