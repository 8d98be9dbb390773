"""A test module that fills crm_tasks' extension point without depending on crm_tasks, as
crm_contracts does: it offers the client's contact-history entries as completion links."""

from __future__ import annotations

from sqlalchemy import text

from core import Manifest, hookimpl
from core.db import db_session

MANIFEST = Manifest(name="crm_tasks_linker", summary="Offers completion links", depends=())


@hookimpl(optionalhook=True)
def crm_tasks_completion_links(task):
    if task.client_id is None:
        return []
    rows = db_session.execute(
        text("SELECT id, subject FROM crm_contacts_contact WHERE client_id = :c ORDER BY id"),
        {"c": task.client_id},
    ).all()
    return [
        {"model": "crm_contacts_contact", "record_id": row.id, "label": f"Contact {row.subject}",
         "url": f"/contacts/history/{row.id}"}
        for row in rows
    ]  # fmt: skip
