from __future__ import annotations

from flask import Blueprint, abort, jsonify, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select

from core.api import api_doc, load_json, paginate
from core.db import db_session
from core.permissions import permission_required
from crm_contacts.models import Client
from crm_contacts.schemas import ClientSchema

bp = Blueprint("crm_contacts", __name__, template_folder="templates", url_prefix="/contacts")
api = Blueprint("crm_contacts_api", __name__, url_prefix="/api/v1/contacts")

PER_PAGE = 50


def _search(stmt, query: str):
    if query:
        like = f"%{query.lower()}%"
        stmt = stmt.where(
            or_(func.lower(Client.name).like(like), func.lower(Client.city).like(like))
        )
    return stmt


@bp.route("/clients")
@permission_required("crm_contacts.read")
def client_list():
    query = request.args.get("q", "").strip()
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    stmt = _search(select(Client), query)
    total = db_session.scalar(select(func.count()).select_from(stmt.subquery()))
    clients = db_session.scalars(
        stmt.order_by(Client.name, Client.id).limit(PER_PAGE).offset((page - 1) * PER_PAGE)
    ).all()
    return render_template(
        "crm_contacts/client_list.html",
        clients=clients,
        query=query,
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        total=total,
    )


@bp.route("/clients/<int:client_id>")
@permission_required("crm_contacts.read")
def client_detail(client_id: int):
    client = db_session.get(Client, client_id) or abort(404)
    return render_template("crm_contacts/client_detail.html", client=client)


@api.route("/clients")
@permission_required("crm_contacts.read")
@api_doc("List clients", response_schema=ClientSchema, many=True, query=("q", "status", "city"))
def api_client_list():
    stmt = _search(select(Client), request.args.get("q", "").strip())
    return jsonify(
        paginate(
            stmt,
            ClientSchema(),
            model=Client,
            filterable=("status", "city"),
            sortable=("name", "city", "created_at"),
            default_sort="name",
        )
    )


@api.route("/clients", methods=["POST"])
@permission_required("crm_contacts.write")
@api_doc("Create a client", request_schema=ClientSchema, response_schema=ClientSchema)
def api_client_create():
    data = load_json(ClientSchema())
    # A client somebody creates is theirs until a manager says otherwise (and so stays visible
    # to a representative under the "own clients" record rule).
    if data.get("responsible_id") is None:
        data["responsible_id"] = current_user.id
    client = Client(**data)
    db_session.add(client)
    db_session.commit()
    response = jsonify(ClientSchema().dump(client))
    response.status_code = 201
    response.headers["Location"] = url_for("crm_contacts_api.api_client_get", client_id=client.id)
    return response


@api.route("/clients/<int:client_id>")
@permission_required("crm_contacts.read")
@api_doc("One client", response_schema=ClientSchema)
def api_client_get(client_id: int):
    client = db_session.get(Client, client_id) or abort(404, "No such client.")
    return jsonify(ClientSchema().dump(client))
