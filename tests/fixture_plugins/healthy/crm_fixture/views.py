from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request
from sqlalchemy import func, select

from core.api import api_doc, paginate
from core.db import db_session
from core.permissions import permission_required
from crm_fixture.models import Note
from crm_fixture.schemas import NoteSchema

bp = Blueprint("crm_fixture", __name__, template_folder="templates", url_prefix="/fixture")
api = Blueprint("crm_fixture_api", __name__, url_prefix="/api/v1/fixture")


def _matching(query: str):
    stmt = select(Note)
    if query:
        stmt = stmt.where(func.lower(Note.title).like(f"%{query.lower()}%"))
    return stmt


@bp.route("/notes")
@permission_required("crm_fixture.read")
def note_list():
    query = request.args.get("q", "").strip()
    notes = db_session.scalars(_matching(query).order_by(Note.title, Note.id).limit(100)).all()
    return render_template("crm_fixture/note_list.html", notes=notes, query=query)


@api.route("/notes")
@permission_required("crm_fixture.read")
@api_doc("List fixture notes", response_schema=NoteSchema, many=True, query=("q", "client_id"))
def api_note_list():
    stmt = _matching(request.args.get("q", "").strip())
    return jsonify(
        paginate(
            stmt,
            NoteSchema(),
            model=Note,
            filterable=("client_id",),
            sortable=("title", "created_at"),
            default_sort="title",
        )
    )
