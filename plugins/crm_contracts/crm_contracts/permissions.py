"""The permission codes of crm_contracts, for views and hooks alike."""

READ = "crm_contracts.read"
WRITE = "crm_contracts.write"
CONFIGURE = "crm_contracts.configure"
