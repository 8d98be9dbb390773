"""CRM module: contracts, their validity and negotiated conditions."""
