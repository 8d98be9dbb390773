"""The permission codes of crm_contacts, for views and hooks alike."""

READ = "crm_contacts.read"
WRITE = "crm_contacts.write"
DELETE = "crm_contacts.delete"
IMPORT = "crm_contacts.import"
CONFIGURE = "crm_contacts.configure"
