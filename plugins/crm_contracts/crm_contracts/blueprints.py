"""The module's blueprints: pages under /contracts, the JSON API under /api/v1/contracts."""

from flask import Blueprint

bp = Blueprint("crm_contracts", __name__, template_folder="templates", url_prefix="/contracts")
api = Blueprint("crm_contracts_api", __name__, url_prefix="/api/v1/contracts")
