"""The module's blueprints: pages under /advertising, the JSON API under /api/v1/advertising."""

from flask import Blueprint

bp = Blueprint("crm_advertising", __name__, template_folder="templates", url_prefix="/advertising")
api = Blueprint("crm_advertising_api", __name__, url_prefix="/api/v1/advertising")


@bp.app_template_filter("advertising_money")
def advertising_money(value) -> str:
    """``1234.5`` → ``1,234.50``: costs as the tables and the client file show them."""
    if value is None:
        return "—"
    return f"{value:,.2f}"
