"""The permission codes of crm_pricing, for views and hooks alike."""

READ = "crm_pricing.read"
WRITE = "crm_pricing.write"
