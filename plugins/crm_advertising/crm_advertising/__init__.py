"""CRM module: advertising materials, their stock, movements and hand-outs to clients."""
