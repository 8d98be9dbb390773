"""The module's pages and JSON API; importing them registers their routes."""

from crm_pricing.views import api_quote, api_rules, price_lists, rules, simulator  # noqa: F401
