"""The permission codes of crm_sales, for views and hooks alike."""

READ = "crm_sales.read"
WRITE = "crm_sales.write"
IMPORT = "crm_sales.import"
