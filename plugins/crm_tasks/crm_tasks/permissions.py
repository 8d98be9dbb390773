"""The permission codes of crm_tasks, for views and hooks alike."""

READ = "crm_tasks.read"
WRITE = "crm_tasks.write"
DELETE = "crm_tasks.delete"
# Monitoring of commitments, and the list of commitment types.
MANAGE = "crm_tasks.manage"
