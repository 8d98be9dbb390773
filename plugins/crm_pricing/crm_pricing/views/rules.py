"""The rules page for managers: list, create, edit, deactivate (after a confirmation) and
reactivate pricing rules, and set the discount caps. Parameters are validated by the schema of the
rule's kind, and every message is shown next to its field; nothing is saved while one is wrong."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from core.audit import history_for
from core.db import db_session
from core.locking import check_version
from core.permissions import permission_required
from crm_contacts.models import Client, CustomerGroup
from crm_pricing.blueprints import bp
from crm_pricing.engine import MODES
from crm_pricing.kinds import EXAMPLES
from crm_pricing.models import DiscountCap, PricingRule
from crm_pricing.permissions import READ, WRITE
from crm_pricing.rules import apply_rule_data
from crm_pricing.schemas import QuoteRequestSchema, RuleSchema
from crm_pricing.service import current_kinds
from crm_pricing.views.forms import (
    PER_PAGE,
    field_errors,
    pages,
    quote_errors,
    quote_input,
    quote_one,
)
from crm_sales.models import Product, ProductGroup

_OPTIONAL_INTS = ("client_id", "customer_group_id", "product_group_id")


def _customer_groups() -> list[Any]:
    return db_session.execute(
        select(CustomerGroup.id, CustomerGroup.name).order_by(CustomerGroup.name)
    ).all()


def _choices() -> dict[str, Any]:
    kinds = current_kinds()
    return {
        "kinds": [(k.name, k.label) for k in kinds.values()],
        "examples": {k: EXAMPLES.get(k, "{}") for k in kinds},
        "modes": [(m, m.capitalize()) for m in MODES],
        "customer_groups": _customer_groups(),
        "product_groups": db_session.execute(
            select(ProductGroup.id, ProductGroup.name, ProductGroup.path).order_by(
                ProductGroup.path
            )
        ).all(),
    }


def _form_data(form) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The posted form as RuleSchema input, with the errors only the form can make."""
    errors: dict[str, list[str]] = {}
    data: dict[str, Any] = {
        "name": form.get("name", "").strip(),
        "kind": form.get("kind", ""),
        "mode": form.get("mode", "stack"),
        "priority": form.get("priority", "").strip() or "100",
        "notes": form.get("notes", ""),
        "active": form.get("active") in ("y", "on", "true"),
        "valid_from": form.get("valid_from") or None,
        "valid_to": form.get("valid_to") or None,
    }
    for name in _OPTIONAL_INTS:
        raw = form.get(name, "").strip()
        if not raw:
            data[name] = None
        elif raw.isdigit() and len(raw) <= 9:  # any id an INTEGER column can hold, no overflow
            data[name] = int(raw)
        else:
            errors[name] = ["Must be a number."]
    code = form.get("product_code", "").strip()
    data["product_id"] = None
    if code:
        product_id = db_session.scalar(select(Product.id).where(Product.code == code))
        if product_id is None:
            errors["product_code"] = [f"No product has the code {code}."]
        data["product_id"] = product_id
    try:
        data["params"] = json.loads(form.get("params", "") or "{}")
        if not isinstance(data["params"], dict):
            errors["params"] = ['Must be a JSON object, such as {"percent": 5}.']
    except ValueError as exc:
        errors["params"] = [f"Not valid JSON: {exc}."]
    return data, errors


def _save(rule: PricingRule, form) -> dict[str, list[str]]:
    data, errors = _form_data(form)
    if errors:
        # still validate the rest, so that every field's message shows at once
        data = {k: v for k, v in data.items() if k not in errors}
    schema = RuleSchema(kinds=current_kinds())
    try:
        loaded = schema.load(data)
        if not errors:
            apply_rule_data(db_session, rule, loaded)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        for key, value in field_errors(messages).items():
            errors.setdefault("product_code" if key == "product_id" else key, []).extend(value)
    return errors


def _try(form, rule_id: int | None) -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    """Price one line with the rule as the form has it, unsaved (in place of the stored rule
    when editing): a manager sees the effect before saving. Nothing is written."""
    trial = PricingRule()
    errors = _save(trial, form)
    quote = None
    try:
        loaded = QuoteRequestSchema().load(quote_input(form, "try_"))
        if not errors:
            quote = quote_one(loaded, extra_rules=[trial], exclude_rules=[rule_id])
    except ValidationError as exc:
        for key, value in quote_errors(exc).items():
            errors.setdefault(f"try_{key}", []).extend(value)
    db_session.rollback()
    return quote, errors


def _values(rule: PricingRule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "kind": rule.kind,
        "mode": rule.mode,
        "priority": rule.priority,
        "notes": rule.notes,
        "active": rule.active,
        "valid_from": rule.valid_from.isoformat() if rule.valid_from else "",
        "valid_to": rule.valid_to.isoformat() if rule.valid_to else "",
        "client_id": rule.client_id or "",
        "customer_group_id": rule.customer_group_id or "",
        "product_group_id": rule.product_group_id or "",
        "product_code": rule.product.code if rule.product else "",
        "params": json.dumps(rule.params, indent=1) if rule.params else "",
        "version": rule.version,
    }


def _rule(rule_id: int) -> PricingRule:
    rule = db_session.scalar(
        select(PricingRule)
        .where(PricingRule.id == rule_id)
        .options(joinedload(PricingRule.product), joinedload(PricingRule.client))
    )
    if rule is None:
        abort(404)
    return rule


@bp.route("/rules")
@permission_required(READ)
def rule_list():
    show = request.args.get("show", "active")
    stmt = select(PricingRule)
    if show == "active":
        stmt = stmt.where(PricingRule.active.is_(True))
    elif show == "inactive":
        stmt = stmt.where(PricingRule.active.is_(False))
    total = db_session.scalar(select(func.count()).select_from(stmt.subquery()))
    page, count = pages(total)
    rules = db_session.scalars(
        stmt.options(
            joinedload(PricingRule.client),
            joinedload(PricingRule.customer_group),
            joinedload(PricingRule.product),
            joinedload(PricingRule.product_group),
        )
        .order_by(PricingRule.priority, PricingRule.name, PricingRule.id)
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    caps = db_session.execute(
        select(DiscountCap.id, DiscountCap.percent, CustomerGroup.name)
        .outerjoin(CustomerGroup, DiscountCap.customer_group_id == CustomerGroup.id)
        .order_by(CustomerGroup.name.is_not(None), CustomerGroup.name)
    ).all()
    kinds = current_kinds().values()
    return render_template(
        "crm_pricing/rule_list.html",
        rules=rules,
        labels={k.name: k.label for k in kinds},
        show=show,
        page=page,
        pages=count,
        total=total,
        caps=caps,
        customer_groups=_customer_groups(),
        automatic=[k for k in kinds if k.automatic],
    )


@bp.route("/rules/new", methods=["GET", "POST"])
@permission_required(WRITE)
def rule_new():
    args = request.args
    defaults = {"mode": "stack", "priority": 100, "active": True}
    return _rule_form(None, {**defaults, "kind": args.get("kind", ""),
                             "client_id": args.get("client_id", "")})  # fmt: skip


@bp.route("/rules/<int:rule_id>/edit", methods=["GET", "POST"])
@permission_required(WRITE)
def rule_edit(rule_id: int):
    rule = _rule(rule_id)
    return _rule_form(rule, _values(rule))


def _rule_form(rule: PricingRule | None, values: dict[str, Any]):
    """The rule form of a new rule (``rule`` None) or of a stored one: try it, or save it."""
    errors: dict[str, list[str]] = {}
    trial = None
    if request.method == "POST" and request.form.get("action") == "try":
        trial, errors = _try(request.form, rule.id if rule else None)
    elif request.method == "POST":
        if rule is not None:
            check_version(rule, request.form.get("version", type=int))
        saving = rule if rule is not None else PricingRule()
        errors = _save(saving, request.form)
        if not errors:
            if rule is None:
                db_session.add(saving)
            db_session.commit()
            flash(f"Rule “{saving.name}” saved.", "success")
            return redirect(url_for(".rule_list"))
        db_session.rollback()
    if request.method == "POST":
        values = {**request.form.to_dict(), "active": request.form.get("active")}
    history = history_for(db_session, PricingRule.__tablename__, rule.id) if rule else []
    return render_template(
        "crm_pricing/rule_form.html", rule=rule, values=values, errors=errors, trial=trial,
        client_label=client_name(_int(values.get("client_id"))), history=history, **_choices()
    ), (400 if errors else 200)  # fmt: skip


@bp.route("/rules/<int:rule_id>/deactivate", methods=["GET", "POST"])
@permission_required(WRITE)
def rule_deactivate(rule_id: int):
    rule = _rule(rule_id)
    if request.method == "POST":
        check_version(rule, request.form.get("version", type=int))
        rule.active = request.form.get("active") == "y"
        db_session.commit()
        state = "reactivated" if rule.active else "deactivated"
        flash(f"Rule “{rule.name}” {state}.", "success")
        return redirect(url_for(".rule_list"))
    return render_template("crm_pricing/rule_deactivate.html", rule=rule)


@bp.route("/caps", methods=["POST"])
@permission_required(WRITE)
def cap_save():
    """Set (or, empty, remove) the installation-wide cap or a customer group's."""
    raw_group = request.form.get("customer_group_id", "").strip()
    raw = request.form.get("percent", "").strip().replace(",", ".")
    group_id = int(raw_group) if raw_group.isdigit() else None
    if raw_group and group_id is None:
        abort(400)
    if group_id is not None and db_session.get(CustomerGroup, group_id) is None:
        flash("No such customer group.", "danger")
        return redirect(url_for(".rule_list"))
    cap = db_session.scalar(
        select(DiscountCap).where(
            DiscountCap.customer_group_id.is_(None)
            if group_id is None
            else DiscountCap.customer_group_id == group_id
        )
    )
    if not raw:
        if cap is not None:
            db_session.delete(cap)
            db_session.commit()
        flash("Cap removed.", "success")
        return redirect(url_for(".rule_list"))
    try:
        percent = Decimal(raw)
    except InvalidOperation:
        percent = Decimal(-1)
    if not percent.is_finite() or not (0 <= percent <= 100):
        flash("Cap (%): must be a number from 0 to 100.", "danger")
        return redirect(url_for(".rule_list"))
    if cap is None:
        cap = DiscountCap(customer_group_id=group_id)
        db_session.add(cap)
    cap.percent = percent.quantize(Decimal("0.01"))
    db_session.commit()
    flash("Cap saved.", "success")
    return redirect(url_for(".rule_list"))


def _int(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() else None


def client_name(client_id: int | None) -> str:
    """The name of the client a rule is for, if the user may see it."""
    if client_id is None:
        return ""
    return db_session.scalar(select(Client.name).where(Client.id == client_id)) or ""
