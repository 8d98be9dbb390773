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


@bp.app_template_filter("pricing_price")
def pricing_price(amount, currency: str = "") -> str:
    """``{{ quote.list_price | pricing_price(quote.currency) }}``: a price at its currency's
    precision, finer digits kept."""
    from crm_pricing.money import display_price

    return "" if amount is None else display_price(amount, currency)
