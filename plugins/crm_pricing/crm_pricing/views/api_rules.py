"""The JSON API of pricing rules (``/api/v1/pricing/rules``) and of the kinds they may be of."""

from __future__ import annotations

from typing import Any

from flask import abort, jsonify, url_for
from marshmallow import fields
from sqlalchemy import select

from core.api import api_doc, created, load_json, paginate
from core.db import db_session
from core.locking import check_version
from core.permissions import permission_required
from core.schemas import Schema
from crm_pricing.blueprints import api
from crm_pricing.kinds import EXAMPLES
from crm_pricing.models import PricingRule
from crm_pricing.permissions import READ, WRITE
from crm_pricing.rules import apply_rule_data
from crm_pricing.schemas import RuleSchema
from crm_pricing.service import current_kinds


class KindSchema(Schema):
    name = fields.String()
    label = fields.String()
    module = fields.String()
    automatic = fields.Boolean()
    parameters = fields.List(fields.String())
    example = fields.String(allow_none=True)


def dump_rule(rule: PricingRule) -> dict[str, Any]:
    return {**RuleSchema().dump(rule), "version": rule.version}  # version is load_only


def _rule(rule_id: int) -> PricingRule:
    rule = db_session.get(PricingRule, rule_id)
    if rule is None:
        abort(404, "No such pricing rule.")
    return rule


@api.route("/kinds")
@permission_required(READ)
@api_doc("The kinds of pricing rules of the installed modules", response_schema=KindSchema,
         many=True)  # fmt: skip
def api_kinds():
    items = [
        {
            "name": k.name,
            "label": k.label,
            "module": k.module,
            "automatic": k.automatic,
            "parameters": sorted(k.schema().fields),
            "example": EXAMPLES.get(k.name),
        }
        for k in current_kinds().values()
    ]
    return jsonify(items=KindSchema(many=True).dump(items))


@api.route("/rules")
@permission_required(READ)
@api_doc(
    "List pricing rules; filters: kind, client_id, customer_group_id",
    response_schema=RuleSchema,
    many=True,
    query=("kind", "client_id", "customer_group_id", "sort", "page", "per_page"),
)
def api_rule_list():
    page = paginate(
        select(PricingRule),
        RuleSchema(),
        model=PricingRule,
        filterable=("kind", "client_id", "customer_group_id"),
        sortable=("priority", "name", "kind", "created_at"),
        default_sort="priority",
    )
    return jsonify(page)


@api.route("/rules", methods=["POST"])
@permission_required(WRITE)
@api_doc("Create a pricing rule; params are validated by the schema of its kind",
         request_schema=RuleSchema, response_schema=RuleSchema)  # fmt: skip
def api_rule_create():
    data = load_json(RuleSchema(kinds=current_kinds()))
    data.pop("version", None)
    rule = apply_rule_data(db_session, PricingRule(), data)
    db_session.add(rule)
    db_session.commit()
    return created(dump_rule(rule), url_for(".api_rule_get", rule_id=rule.id))


@api.route("/rules/<int:rule_id>")
@permission_required(READ)
@api_doc("A pricing rule", response_schema=RuleSchema)
def api_rule_get(rule_id: int):
    return jsonify(dump_rule(_rule(rule_id)))


@api.route("/rules/<int:rule_id>", methods=["PATCH"])
@permission_required(WRITE)
@api_doc("Change a pricing rule (send its version); active=false deactivates it",
         request_schema=RuleSchema, response_schema=RuleSchema)  # fmt: skip
def api_rule_update(rule_id: int):
    rule = _rule(rule_id)
    schema = RuleSchema(kinds=current_kinds())
    raw = load_json(schema, partial=True)
    check_version(rule, raw.get("version"))
    # validated again as a whole: a new kind must fit the stored params and vice versa
    stored = {k: v for k, v in schema.dump(rule).items() if k != "id"}
    data = schema.load({**stored, **{k: v for k, v in schema.dump(raw).items() if k in raw}})
    apply_rule_data(db_session, rule, data)
    db_session.commit()
    return jsonify(dump_rule(rule))
