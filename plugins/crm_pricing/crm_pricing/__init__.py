"""CRM module: the pricing engine and client-specific price lists."""
