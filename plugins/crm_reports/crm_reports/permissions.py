"""The permissions of crm_reports."""

READ = "crm_reports.read"
WRITE = "crm_reports.write"
