"""CRM module: tasks and commitments, their statuses, assignment and attachments."""
