"""The permission codes of crm_competitors, for views and hooks alike."""

READ = "crm_competitors.read"
WRITE = "crm_competitors.write"
CONFIGURE = "crm_competitors.configure"
