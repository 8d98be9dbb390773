"""The module's pages and JSON API; importing them registers their routes."""

from crm_pricing.views import (  # noqa: F401
    api_quote,
    api_rules,
    bulk,
    price_lists,
    rules,
    simulator,
)
