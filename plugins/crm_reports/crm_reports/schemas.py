"""What the API takes and gives: report specs, results and saved reports."""

from __future__ import annotations

from marshmallow import fields, validate

from core.schemas import Schema


class SpecSchema(Schema):
    """A report spec (the reference is in docs/plugins.md); checked against the registry on use."""

    model = fields.String(required=True, metadata={"description": "registry name of the model"})
    filters = fields.List(fields.Dict())
    group_by = fields.List(fields.Dict())
    measures = fields.List(fields.Dict())
    columns = fields.List(fields.Raw())
    pivot = fields.String(allow_none=True)
    order_by = fields.List(fields.Dict())
    limit = fields.Integer(allow_none=True)
    chart = fields.Dict(allow_none=True)
    title = fields.String()


class ResultSchema(Schema):
    columns = fields.List(fields.Dict(), metadata={"description": "key, label, type, role"})
    rows = fields.List(fields.List(fields.Raw()))
    keys = fields.List(fields.List(fields.Raw()), metadata={"description": "group keys per row"})
    totals = fields.Dict(
        metadata={"description": "columns: a total per column; overall: per measure"}
    )
    truncated = fields.Boolean()


class SavedReportSchema(Schema):
    """A saved report in and out: ``spec`` is checked for the saving user before it is kept."""

    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(load_default="", validate=validate.Length(max=2000))
    spec = fields.Dict(required=True)
    groups = fields.List(fields.String(), load_default=list)
    kind = fields.String(dump_only=True)
    owner = fields.String(dump_only=True)


class ReportEntrySchema(Schema):
    id = fields.Raw(metadata={"description": "a number (saved) or module.name (ready-made)"})
    kind = fields.String(metadata={"description": "saved or ready_made"})
    title = fields.String()
    module = fields.String()
    description = fields.String()
    owner = fields.String(allow_none=True)
    groups = fields.List(fields.String())
    spec = fields.Dict()
