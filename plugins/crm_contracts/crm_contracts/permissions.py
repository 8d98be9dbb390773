"""The permission codes of crm_contracts, for views and hooks alike."""

READ = "crm_contracts.read"
WRITE = "crm_contracts.write"
# Prepare a renewal: a draft successor that someone with WRITE checks and signs.
RENEW = "crm_contracts.renew"
CONFIGURE = "crm_contracts.configure"
