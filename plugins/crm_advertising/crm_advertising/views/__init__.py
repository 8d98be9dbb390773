"""Importing the views registers their routes on the module's blueprints."""

from crm_advertising.views import (  # noqa: F401
    api_materials,
    api_movements,
    handout,
    materials,
    movements,
    overview,
    settings,
    stock,
)
