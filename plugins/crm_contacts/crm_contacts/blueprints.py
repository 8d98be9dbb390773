"""The module's blueprints: pages under /contacts, the JSON API under /api/v1."""

from flask import Blueprint

bp = Blueprint("crm_contacts", __name__, template_folder="templates", url_prefix="/contacts")
api = Blueprint("crm_contacts_api", __name__, url_prefix="/api/v1")
