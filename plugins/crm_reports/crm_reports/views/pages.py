"""Pages of the report generator: the list of reports, the builder (table, chart, save, share,
export) and the drill-down from a cell to the records behind it."""

from __future__ import annotations

import json
import math
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from core.auth import has_permission
from core.charts import bar_chart, heat_class, line_chart, pie_chart, stacked_bar_chart
from core.db import db_session
from core.models import Group
from core.permissions import permission_required
from core.report_fields import SpecError
from core.report_spec import Spec
from crm_reports import builder, jobs, service
from crm_reports.blueprints import bp
from crm_reports.export import FORMATS
from crm_reports.models import SavedReport
from crm_reports.periods import bucket_label
from crm_reports.permissions import READ, WRITE
from crm_reports.result import Result, drill_filters, jsonable
from crm_reports.views.common import export_response

DRILL_PER_PAGE = 50
CHART_POINTS = 40


def _user():
    return current_user._get_current_object()


@bp.route("/")
@permission_required(READ)
def report_list():
    entries = service.entries(db_session, _user())
    return render_template(
        "crm_reports/list.html",
        saved=[e for e in entries if e.kind == "saved"],
        ready=[e for e in entries if e.kind == "ready_made"],
    )


def _loaded_spec() -> tuple[dict[str, Any], SavedReport | None, str]:
    """The spec on screen: a saved report's, a ready-made one's, or the form's."""
    if request.args.get("report", "").isdigit() and "model" not in request.args:
        report = service.find_saved(db_session, int(request.args["report"]), _user())
        return report.spec, report, report.name
    if request.args.get("ready") and "model" not in request.args:
        definition = service.find_ready_made(request.args["ready"], _user())
        return definition.as_spec(), None, definition.title
    if request.args.get("spec") and "model" not in request.args:
        try:
            raw = json.loads(request.args["spec"])
        except ValueError:
            raw = {}
        return raw if isinstance(raw, dict) else {}, None, ""
    saved = None
    if request.args.get("report", "").isdigit():
        saved = service.find_saved(db_session, int(request.args["report"]), _user())
    return builder.spec_from_form(request.args), saved, saved.name if saved else ""


def _cell_text(column, value) -> str:
    if column.role == "group" and column.bucket:
        return bucket_label(column.bucket, value)
    if value is None:
        return "(empty)" if column.role == "group" else ""
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool) and column.role != "group":
        return f"{value:,}"
    if hasattr(value, "as_tuple"):
        return f"{value:,}"
    return str(value)


def _row_label(result: Result, row: list, width: int) -> str:
    return " / ".join(_cell_text(c, v) for c, v in zip(result.columns[:width], row, strict=False))


def chart_of(result: Result, spec: Spec) -> Markup | None:
    kind = (spec.chart or {}).get("type")
    if not kind or kind == "heatmap" or spec.is_list or not result.rows:
        return None
    width = len(spec.row_groups) if spec.pivot is not None else len(spec.group_by)
    rows = result.rows[:CHART_POINTS]
    labels = [_row_label(result, row, width) if width else "Total" for row in rows]
    measures = [(i, c) for i, c in enumerate(result.columns) if c.role == "measure"]
    if spec.pivot is not None:
        measures = [(i, c) for i, c in measures if c.measure == 0]
    series = {c.label: [row[i] for row in rows] for i, c in measures}
    if spec.pivot is not None:
        bucket = spec.group_by[spec.pivot].bucket
        series = {bucket_label(bucket, c.pivot_key) if bucket else c.label: [row[i] for row in rows]
                  for i, c in measures}  # fmt: skip
    title = spec.raw.get("title") or ", ".join(m.label for m in spec.measures)
    if kind == "pie":
        first = next(iter(series.values()))
        if spec.pivot is not None:
            first = [row[-len(spec.measures)] for row in rows]
        return pie_chart(labels, first, title)
    if kind == "line":
        return line_chart(labels, series, title)
    if kind == "stacked_bar":
        return stacked_bar_chart(labels, series, title)
    return bar_chart(labels, series, title)


def heat_classes(result: Result, spec: Spec) -> list[list[str]]:
    if (spec.chart or {}).get("type") != "heatmap":
        return []
    cells = [
        i for i, c in enumerate(result.columns) if c.role == "measure" and (c.measure or 0) == 0
    ]
    values = [row[i] for row in result.rows for i in cells if row[i] is not None]
    if not values:
        return []
    low, high = min(values), max(values)
    return [
        [heat_class(row[i], low, high) if i in cells else "" for i in range(len(row))]
        for row in result.rows
    ]


@bp.route("/builder", endpoint="builder")
@permission_required(READ)
def builder_page():
    raw, saved, name = _loaded_spec()
    fields = service.fields_for(_user())
    models = service.reportable_models(fields)
    form = builder.form_from_spec(raw) if raw else {}
    root = next((t for t in models if t.name == form.get("model")), None)
    spec = result = error = None
    status = 200
    if raw.get("model"):
        try:
            runner = service.runner(raw, _user(), db_session)
            spec, result = runner.spec, runner.run()
        except SpecError as exc:
            error, status = exc, exc.status
    groups = list(db_session.scalars(select(Group).order_by(Group.name)))
    return render_template(
        "crm_reports/builder.html",
        form=form,
        models=models,
        root=root,
        pickers=builder.pickers(fields, root),
        record_pickers=builder.record_pickers(fields, root, form, db_session),
        operators=builder.all_operators(),
        chart_labels=builder.CHART_LABELS,
        slots={"rows": builder.ROWS, "measures": builder.MEASURES, "filters": builder.FILTERS},
        spec=spec,
        spec_json=json.dumps(raw),
        result=result,
        chart=chart_of(result, spec) if result is not None and spec is not None else None,
        heat=heat_classes(result, spec) if result is not None and spec is not None else [],
        cell_text=_cell_text,
        row_labels=[
            _row_label(result, row, len(result.keys[0]) if result.keys else 0)
            for row in result.rows
        ]
        if result
        else [],
        row_keys=[json.dumps([jsonable(k) for k in keys]) for keys in result.keys]
        if result
        else [],
        pivot_keys={c.pivot_key: json.dumps(jsonable(c.pivot_key)) for c in result.columns}
        if result
        else {},
        error=error,
        saved=saved,
        name=name,
        groups=groups,
        may_save=has_permission(WRITE, _user()),
        may_edit=saved is not None and service.may_edit(saved, _user()),
    ), status


@bp.route("/save", methods=["POST"])
@permission_required(WRITE)
def report_save():
    name = request.form.get("name", "").strip()
    try:
        raw = json.loads(request.form.get("spec", ""))
    except ValueError:
        raw = None
    report_id = request.form.get("report_id", "")
    back = url_for("crm_reports.builder", spec=request.form.get("spec", ""))
    if not name or len(name) > 200:
        flash("Name the report (at most 200 characters) to save it.", "danger")
        return redirect(back)
    try:
        service.check(raw, _user())
        groups = service.groups_by_code(db_session, request.form.getlist("groups"))
    except SpecError as exc:
        flash(f"The report cannot be saved: {exc}", "danger")
        return redirect(back)
    if report_id.isdigit() and request.form.get("as_new") != "1":
        report = service.find_saved(db_session, int(report_id), _user())
        if not service.may_edit(report, _user()):
            abort(403)
    else:
        report = SavedReport(owner_id=current_user.id)
        db_session.add(report)
    report.name, report.spec, report.groups = name, raw, groups
    db_session.commit()
    shared = ", ".join(g.name for g in groups)
    flash(f"Saved “{name}”" + (f", shared with {shared}." if shared else "."), "success")
    return redirect(url_for("crm_reports.builder", report=report.id))


@bp.route("/<int:report_id>/delete", methods=["GET", "POST"])
@permission_required(WRITE)
def report_delete(report_id: int):
    report = service.find_saved(db_session, report_id, _user())
    if not service.may_edit(report, _user()):
        abort(403)
    if request.method == "POST":
        db_session.delete(report)
        db_session.commit()
        flash(f"Deleted “{report.name}”.", "success")
        return redirect(url_for("crm_reports.report_list"))
    return render_template("crm_reports/delete.html", report=report)


@bp.route("/export")
@permission_required(READ)
def report_export():
    fmt = request.args.get("format", "xlsx")
    if fmt not in FORMATS:
        abort(400, "Export as csv or xlsx.")
    raw, _saved, name = _loaded_spec()
    try:
        runner = service.runner(raw, _user(), db_session)
    except SpecError as exc:
        abort(exc.status, str(exc))
    title = name or raw.get("title") or "report"
    if jobs.needs_job(runner):
        job_id = jobs.start(_user(), raw, fmt, title)
        flash("A large export: it runs in the background; the file is here when it is ready.",
              "info")  # fmt: skip
        return redirect(url_for("core_jobs.job_detail", job_id=job_id))
    return export_response(runner, fmt, title)


@bp.route("/drill")
@permission_required(READ)
def drill():
    """The records behind a cell: the report's filters plus the cell's row (and column)."""
    raw, _saved, name = _loaded_spec()
    try:
        keys = json.loads(request.args.get("keys", "[]"))
        pivot_key = json.loads(request.args.get("pk", "null"))
    except ValueError:
        abort(400, "keys and pk must be JSON.")
    if not isinstance(keys, list):
        abort(400, "keys must be a list.")
    try:
        grouped = service.check(raw, _user())
    except SpecError as exc:
        abort(exc.status, str(exc))
    if len(keys) > len(grouped.row_groups):
        abort(400, "More keys than the report's rows have.")
    extra = drill_filters(grouped, keys, pivot_key, with_pivot="pk" in request.args)
    listing = {"model": raw["model"], "filters": raw.get("filters") or [],
               "columns": _drill_columns(grouped)}  # fmt: skip
    runner = service.runner(listing, _user(), db_session)
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    total = runner.count(extra)
    result = runner.run_list(DRILL_PER_PAGE, (page - 1) * DRILL_PER_PAGE, extra)
    info = grouped.root.info
    links = []
    if info is not None and info.page is not None:
        column = info.page.column
        ids = result.record_ids
        if column != "id":
            model = info.model
            stmt = select(model.id, getattr(model, column)).where(model.id.in_(ids))
            found = dict(db_session.execute(stmt).all())
            ids = [found.get(i) for i in ids]
        links = [url_for(info.page.endpoint, **{info.page.argument: v}) if v else None for v in ids]
    described = (
        [request.args["what"]]
        if request.args.get("what")
        else [
            f"{g.label}: {_key_text(g, k)}" for g, k in zip(grouped.row_groups, keys, strict=False)
        ]
    )
    return render_template(
        "crm_reports/drill.html",
        name=name,
        spec=grouped,
        described=described,
        result=result,
        links=links,
        total=total,
        page=page,
        pages=max(1, math.ceil(total / DRILL_PER_PAGE)),
        cell_text=_cell_text,
    )


def _key_text(group, key) -> str:
    if group.bucket:
        return bucket_label(group.bucket, key)
    return "(empty)" if key is None else str(key)


def _drill_columns(spec: Spec) -> list[str]:
    """The columns of a drill-down: the report's own list columns, else the model's first ones."""
    if spec.columns:
        return [c.path for c in spec.columns]
    names = [n for n in spec.root.column_names() if n != "id"]
    return names[:8]
