"""The module's blueprints: pages under /sales, the JSON API under /api/v1/sales."""

from flask import Blueprint

bp = Blueprint("crm_sales", __name__, template_folder="templates", url_prefix="/sales")
api = Blueprint("crm_sales_api", __name__, url_prefix="/api/v1/sales")


@bp.app_template_filter("sales_money")
def sales_money(value) -> str:
    """``1234.5`` → ``1,234.50``: figures as the tables and the client file show them."""
    if value is None:
        return "—"
    return f"{value:,.2f}"


@bp.app_template_filter("sales_growth")
def sales_growth(value) -> str:
    """A growth in % with its sign, or a dash when there was nothing to compare with."""
    if value is None:
        return "—"
    return f"{value:+}%"
