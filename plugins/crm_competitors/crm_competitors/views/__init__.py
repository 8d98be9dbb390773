"""Importing the views registers their routes on the module's blueprints."""

from crm_competitors.views import api_competitors, changes, competitors, presences  # noqa: F401
