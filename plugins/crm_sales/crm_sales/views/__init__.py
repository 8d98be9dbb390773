"""Pages and JSON API of crm_sales; importing this package registers every route."""

from crm_sales.views import analysis, api_documents, catalogue, documents  # noqa: F401
