"""What the pages and the API share: a result as JSON, an export as a streamed download."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from flask import Response, current_app, stream_with_context

from core.report_spec import Spec
from crm_reports.engine import Runner
from crm_reports.export import FORMATS, csv_chunks, iter_file, write_xlsx
from crm_reports.result import Result, jsonable


def result_json(result: Result, spec: Spec) -> dict[str, Any]:
    count = len(spec.measures)
    totals = result.totals or []
    overall = {}
    if not spec.is_list and totals:
        overall = {m.key: jsonable(v) for m, v in zip(spec.measures, totals[-count:], strict=True)}
    return {
        "columns": [
            {"key": c.key, "label": c.label, "type": c.kind, "role": c.role} for c in result.columns
        ],
        "rows": [[jsonable(v) for v in row] for row in result.rows],
        "keys": [[jsonable(v) for v in keys] for keys in result.keys],
        "totals": {"columns": [jsonable(v) for v in totals], "overall": overall},
        "truncated": result.truncated,
    }


def _filename(title: str, fmt: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_ " else "_" for ch in title).strip() or "report"
    return f"{safe.replace(' ', '-').lower()[:80]}.{fmt}"


def export_response(runner: Runner, fmt: str, title: str) -> Response:
    """The report as a download, in constant memory: CSV is written to the response as the rows
    come; XLSX (a zip, written whole at the end) goes through a temporary file that is removed once
    sent."""
    headers = {"Content-Disposition": f'attachment; filename="{_filename(title, fmt)}"'}
    if fmt == "csv":
        body = stream_with_context(chunk.encode("utf-8") for chunk in csv_chunks(runner))
        return Response(body, mimetype=FORMATS["csv"], headers=headers)
    folder = Path(current_app.instance_path) / "tmp"
    folder.mkdir(parents=True, exist_ok=True)
    descriptor, name = tempfile.mkstemp(suffix=".xlsx", dir=folder)
    os.close(descriptor)
    path = Path(name)
    try:
        write_xlsx(runner, path, title)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    headers["Content-Length"] = str(path.stat().st_size)
    return Response(iter_file(path), mimetype=FORMATS["xlsx"], headers=headers)
