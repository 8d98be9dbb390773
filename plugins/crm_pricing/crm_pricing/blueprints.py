"""The module's blueprints: pages under /pricing, the JSON API under /api/v1/pricing."""

from flask import Blueprint

bp = Blueprint(
    "crm_pricing",
    __name__,
    template_folder="templates",
    static_folder="static",
    url_prefix="/pricing",
)
api = Blueprint("crm_pricing_api", __name__, url_prefix="/api/v1/pricing")
