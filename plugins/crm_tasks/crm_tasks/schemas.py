"""One schema per resource: what comes in (the task form, JSON) is validated here, and what goes
out of the JSON API is shaped here. References (client, person, contact, type, assignee) are
checked against the database by ``crm_tasks.service.check_references``."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, pre_load, validate

from core.schemas import Schema
from crm_contacts.schemas import Base, UtcDateTime, one_of
from crm_tasks import workflow
from crm_tasks.models import PRIORITIES


def _optional_id(label: str) -> fields.Integer:
    return fields.Integer(
        load_default=None,
        allow_none=True,
        strict=False,
        validate=validate.Range(min=1, error=f"Not a valid {label}."),
    )


class _Base(Base):
    @pre_load
    def blanks_are_none(self, data: Any, **_kwargs: Any) -> Any:
        """A form's empty select or date field means "none"."""
        if not isinstance(data, dict):
            return data
        optional = ("client_id", "person_id", "contact_id", "assigned_to_id", "due_date")
        return {k: (None if k in optional and v == "" else v) for k, v in data.items()}


class TaskSchema(_Base):
    id = fields.Integer(dump_only=True)
    title = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200, error="Give a title (1 to 200 characters)."),
    )
    description = fields.String(
        load_default="", validate=validate.Length(max=10000, error="At most 10000 characters.")
    )
    commitment_type_id = fields.Integer(
        required=True, strict=False, error_messages={"required": "Choose the commitment type."}
    )
    commitment_type = fields.Function(
        lambda t: t.commitment_type.code if t.commitment_type else None, dump_only=True
    )
    client_id = _optional_id("client")
    person_id = _optional_id("contact person")
    contact_id = _optional_id("contact-history entry")
    assigned_to_id = _optional_id("user")
    assigned_by_id = fields.Integer(dump_only=True)
    due_date = fields.Date(load_default=None, allow_none=True)
    priority = one_of(PRIORITIES, "normal")
    status = fields.String(dump_only=True)
    status_label = fields.Function(lambda t: workflow.label(t.status), dump_only=True)
    allowed_transitions = fields.Function(lambda t: list(workflow.allowed(t)), dump_only=True)
    status_changed_at = UtcDateTime(dump_only=True)
    completed_at = UtcDateTime(dump_only=True)
    rejection_reason = fields.String(dump_only=True)
    link = fields.Function(
        lambda t: (
            {
                "model": t.link_model,
                "record_id": t.link_record_id,
                "label": t.link_label,
                "url": t.link_url,
            }
            if t.link_model
            else None
        ),
        dump_only=True,
    )
    created_at = UtcDateTime(dump_only=True)
    version = fields.Integer(dump_only=True)


class TaskUpdateSchema(TaskSchema):
    """A PATCH: any field of the task, and the version that was read."""

    version = fields.Integer(
        required=True, strict=False, error_messages={"required": "Send the version you read."}
    )


class TransitionSchema(_Base):
    """In: the status to move to, a comment (the reason, for a refusal), the chosen completion
    link (``<model>:<id>``) and optionally the version read. Out: one line of the history."""

    id = fields.Integer(dump_only=True)
    to = fields.String(
        load_only=True,
        required=True,
        validate=validate.OneOf(workflow.STATUSES, error="Must be one of: {choices}."),
    )
    comment = fields.String(
        load_default="", validate=validate.Length(max=5000, error="At most 5000 characters.")
    )
    link = fields.String(load_only=True, load_default="")
    version = fields.Integer(load_only=True, load_default=None, allow_none=True, strict=False)
    from_status = fields.String(dump_only=True)
    to_status = fields.String(dump_only=True)
    user_id = fields.Integer(dump_only=True)
    at = UtcDateTime(dump_only=True)


class AttachmentSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    content_type = fields.String(dump_only=True)
    size = fields.Integer(dump_only=True)
    sha256 = fields.String(dump_only=True)
    created_at = UtcDateTime(dump_only=True)
    created_by_id = fields.Integer(dump_only=True)


class CommitmentTypeSchema(_Base):
    id = fields.Integer(dump_only=True)
    code = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[a-z][a-z0-9_]{0,49}$",
            error="Lowercase letters, digits and underscores, starting with a letter.",
        ),
    )
    name = fields.String(
        required=True, validate=validate.Length(min=1, max=100, error="1 to 100 characters.")
    )
    needs_development = fields.Boolean(load_default=False)
    active = fields.Boolean(load_default=True)
    sort_order = fields.Integer(
        load_default=100, strict=False, validate=validate.Range(min=0, max=10000)
    )
