"""The module's blueprints: pages under /competitors, the JSON API under /api/v1/competitors."""

from flask import Blueprint

bp = Blueprint("crm_competitors", __name__, template_folder="templates", url_prefix="/competitors")
api = Blueprint("crm_competitors_api", __name__, url_prefix="/api/v1/competitors")
