"""(being written)"""

from crm_contacts.blueprints import api, bp  # noqa: F401
