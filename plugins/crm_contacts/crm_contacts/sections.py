"""(being written) crm_contacts' own sections of the client file."""
