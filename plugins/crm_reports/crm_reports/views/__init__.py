"""Importing the views registers their routes on the blueprints of ``crm_reports.blueprints``."""

from crm_reports.views import api, pages  # noqa: F401
