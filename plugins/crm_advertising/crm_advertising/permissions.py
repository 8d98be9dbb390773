"""The permission codes of crm_advertising, for views and hooks alike."""

READ = "crm_advertising.read"
HAND_OUT = "crm_advertising.hand_out"
MANAGE_STOCK = "crm_advertising.manage_stock"
CONFIGURE = "crm_advertising.configure"
