"""The module's blueprints: pages under /reports, the JSON API under /api/v1/reports."""

from flask import Blueprint

bp = Blueprint(
    "crm_reports",
    __name__,
    template_folder="templates",
    static_folder="static",
    url_prefix="/reports",
)
api = Blueprint("crm_reports_api", __name__, url_prefix="/api/v1/reports")
