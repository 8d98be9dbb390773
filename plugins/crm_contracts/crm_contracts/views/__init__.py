"""Importing the views registers their routes on the blueprints of ``crm_contracts.blueprints``."""

from crm_contracts.views import (  # noqa: F401
    api_contracts,
    conditions,
    contracts,
    dashboard,
    settings,
)
