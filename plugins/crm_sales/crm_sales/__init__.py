"""CRM module: products, sales documents and the trade turnover they add up to."""
