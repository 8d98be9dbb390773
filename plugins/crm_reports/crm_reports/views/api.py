"""JSON API of the report generator: /api/v1/reports (saved and ready-made), /run, /models,
saved reports by id, exports."""

from __future__ import annotations

from flask import abort, jsonify, request, url_for
from flask_login import current_user

from core.api import ApiError, api_doc, created, json_body, load_json
from core.db import db_session
from core.permissions import permission_required
from core.report_fields import SpecError
from crm_reports import jobs, service
from crm_reports.blueprints import api
from crm_reports.export import FORMATS
from crm_reports.models import SavedReport
from crm_reports.permissions import READ, WRITE
from crm_reports.schemas import (
    ReportEntrySchema,
    ResultSchema,
    SavedReportSchema,
    SpecSchema,
)
from crm_reports.views.common import export_response, result_json


def spec_error(error: SpecError, prefix: str = "") -> ApiError:
    return ApiError({prefix + error.where: [error.message]}, error.status)


def _user():
    return current_user._get_current_object()


def _dump(report: SavedReport) -> dict:
    return {
        "id": report.id,
        "kind": "saved",
        "name": report.name,
        "description": report.description,
        "spec": report.spec,
        "groups": sorted(g.code for g in report.groups),
        "owner": report.owner.name,
    }


@api.route("")
@permission_required(READ)
@api_doc("Saved reports you may open and the installed modules' ready-made ones",
         response_schema=ReportEntrySchema, many=True)  # fmt: skip
def api_report_list():
    items = ReportEntrySchema(many=True).dump(service.entries(db_session, _user()))
    return jsonify(items=items)


@api.route("/models")
@permission_required(READ)
@api_doc("The models you may report on, with the fields (paths) a spec may name")
def api_models():
    fields = service.fields_for(_user())
    items = []
    for target in service.reportable_models(fields):
        items.append({
            "name": target.name,
            "label": target.label,
            "fields": [{"path": f.path, "label": f.label, "type": f.kind}
                       for f in fields.choices(target)],
        })  # fmt: skip
    return jsonify(items=items)


@api.route("/run", methods=["POST"])
@permission_required(READ)
@api_doc("Run a report spec: columns, rows and totals", request_schema=SpecSchema,
         response_schema=ResultSchema)  # fmt: skip
def api_run():
    try:
        runner = service.runner(json_body(), _user(), db_session)
    except SpecError as exc:
        raise spec_error(exc) from None
    result = runner.run(limit=None if runner.spec.limit else 10_000)
    return jsonify(result_json(result, runner.spec))


def _checked(data: dict) -> dict:
    try:
        service.check(data["spec"], _user())
    except SpecError as exc:
        raise spec_error(exc, "spec.") from None
    return data


def _apply(report: SavedReport, data: dict) -> None:
    for name in ("name", "description", "spec"):
        if name in data:
            setattr(report, name, data[name])
    if "groups" in data:
        try:
            report.groups = service.groups_by_code(db_session, data["groups"])
        except SpecError as exc:
            raise spec_error(exc) from None


@api.route("", methods=["POST"])
@permission_required(WRITE)
@api_doc("Save a report (shared with the groups named by code)",
         request_schema=SavedReportSchema, response_schema=SavedReportSchema)  # fmt: skip
def api_report_create():
    data = _checked(load_json(SavedReportSchema()))
    report = SavedReport(owner_id=current_user.id)
    _apply(report, data)
    db_session.add(report)
    db_session.commit()
    return created(_dump(report), url_for("crm_reports_api.api_report_get", report_id=report.id))


@api.route("/<report_id>")
@permission_required(READ)
@api_doc("A saved report (by number) or a ready-made one (by module.name), with its spec")
def api_report_get(report_id: str):
    if report_id.isdigit():
        return jsonify(_dump(service.find_saved(db_session, int(report_id), _user())))
    definition = service.find_ready_made(report_id, _user())
    return jsonify({"id": definition.id, "kind": "ready_made", "name": definition.title,
                    "description": definition.description, "module": definition.module,
                    "spec": definition.as_spec()})  # fmt: skip


def _editable(report_id: int) -> SavedReport:
    report = service.find_saved(db_session, report_id, _user())
    if not service.may_edit(report, _user()):
        abort(403, "Only the report's author (or an administrator) may change it.")
    return report


@api.route("/<int:report_id>", methods=["PATCH"])
@permission_required(WRITE)
@api_doc("Change a saved report of yours", request_schema=SavedReportSchema,
         response_schema=SavedReportSchema)  # fmt: skip
def api_report_update(report_id: int):
    report = _editable(report_id)
    data = load_json(SavedReportSchema(), partial=True)
    if "spec" in data:
        _checked(data)
    _apply(report, data)
    db_session.commit()
    return jsonify(_dump(report))


@api.route("/<int:report_id>", methods=["DELETE"])
@permission_required(WRITE)
@api_doc("Delete a saved report of yours")
def api_report_delete(report_id: int):
    db_session.delete(_editable(report_id))
    db_session.commit()
    return "", 204


@api.route("/<report_id>/export")
@permission_required(READ)
@api_doc(
    "A report as CSV or XLSX, run with your permissions (a large list report: 202 and "
    "the background job that makes the file)",
    query=("format",),
)
def api_report_export(report_id: str):
    fmt = request.args.get("format", "csv")
    if fmt not in FORMATS:
        raise ApiError({"format": ["csv or xlsx"]})
    title, spec = service.spec_of(db_session, report_id, _user())
    try:
        runner = service.runner(spec, _user(), db_session)
    except SpecError as exc:
        raise spec_error(exc) from None
    if jobs.needs_job(runner):
        job_id = jobs.start(_user(), spec, fmt, title)
        location = url_for("core_jobs_api.api_job", job_id=job_id)
        response = jsonify(job=job_id, status_url=location)
        response.status_code, response.headers["Location"] = 202, location
        return response
    return export_response(runner, fmt, title)
