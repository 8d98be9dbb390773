from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import func, or_, select

from core.api import ApiError, api_doc, load_json, paginate
from core.audit import history_for
from core.db import db_session
from core.locking import check_version
from core.models import User
from core.permissions import permission_required
from crm_contacts.models import CLIENT_STATUSES, Client
from crm_contacts.schemas import ClientSchema, ClientUpdateSchema

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
    history = history_for(db_session, Client.__tablename__, client.id)
    return render_template("crm_contacts/client_detail.html", client=client, history=history)


FORM_FIELDS = ("name", "email", "phone", "city", "status", "responsible_id")


def _form_input() -> dict[str, str | None]:
    """The posted fields; an empty optional field is left out so that the schema's default
    applies (an empty email is no address, not an invalid one). An empty name stays, to be
    refused with the schema's own message."""
    data: dict[str, str | None] = {}
    for key in FORM_FIELDS:
        value = request.form.get(key, "").strip()
        if value or key == "name":
            data[key] = value
    return data


def _users(keep: int | None):
    """Who can be made responsible: the active users, and the current one even if deactivated."""
    condition = User.active if keep is None else or_(User.active, User.id == keep)
    return db_session.execute(
        select(User.id, User.name).where(condition).order_by(User.name, User.id)
    ).all()


def _render_form(client: Client | None, values: dict, errors: dict, status: int = 200):
    return render_template(
        "crm_contacts/client_form.html",
        client=client,
        values=values,
        errors=errors,
        statuses=CLIENT_STATUSES,
        users=_users(client.responsible_id if client is not None else None),
    ), status


@bp.route("/clients/new", methods=["GET", "POST"])
@permission_required("crm_contacts.write")
def client_new():
    if request.method == "GET":
        return _render_form(None, {"status": "prospect", "responsible_id": current_user.id}, {})
    raw = _form_input()
    # The creator keeps the client in view under the "own clients" rule, as in the API.
    raw.setdefault("responsible_id", str(current_user.id))
    try:
        data = ClientSchema().load(raw)
    except ValidationError as error:
        return _render_form(None, raw, error.messages_dict, 400)
    client = Client(**data)
    db_session.add(client)
    db_session.commit()
    flash(f"Client “{client.name}” created.", "success")
    return redirect(url_for("crm_contacts.client_detail", client_id=client.id))


@bp.route("/clients/<int:client_id>/edit", methods=["GET", "POST"])
@permission_required("crm_contacts.write")
def client_edit(client_id: int):
    client = db_session.get(Client, client_id) or abort(404)
    if request.method == "GET":
        values = {k: getattr(client, k) for k in FORM_FIELDS}
        return _render_form(client, {**values, "version": client.version}, {})
    # Before validating: input typed over a stale form is to be redone, not corrected.
    check_version(client, request.form.get("version"))
    raw = _form_input()
    try:
        data = ClientSchema().load(raw)
    except ValidationError as error:
        values = {**raw, "version": request.form.get("version")}
        return _render_form(client, values, error.messages_dict, 400)
    for key, value in data.items():
        setattr(client, key, value)
    db_session.commit()
    flash(f"Client “{client.name}” saved.", "success")
    return redirect(url_for("crm_contacts.client_detail", client_id=client.id))


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


@api.route("/clients/<int:client_id>", methods=["PATCH"])
@permission_required("crm_contacts.write")
@api_doc(
    "Change some fields of a client. The body carries the version the client was read at; "
    "409 with the current values when someone changed it since",
    request_schema=ClientUpdateSchema,
    response_schema=ClientSchema,
)
def api_client_update(client_id: int):
    client = db_session.get(Client, client_id) or abort(404, "No such client.")
    data = load_json(ClientUpdateSchema(), partial=True)
    if "version" not in data:
        raise ApiError({"version": ["Missing data for required field."]})
    check_version(client, data.pop("version"))
    for key, value in data.items():
        setattr(client, key, value)
    db_session.commit()
    return jsonify(ClientSchema().dump(client))
