"""The rules page for managers: list, create, edit, deactivate (after a confirmation) and
reactivate pricing rules, and set the discount caps. Parameters are validated by the schema of the
rule's kind, and every message is shown next to its field; nothing is saved while one is wrong."""

from __future__ import annotations

from datetime import date
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
from core.schema_forms import error_lines, errors_by_name, form_data, schema_form
from crm_contacts.models import CustomerGroup
from crm_pricing.blueprints import bp
from crm_pricing.engine import MODES
from crm_pricing.models import DiscountCap, PricingRule
from crm_pricing.overlaps import as_engine_rule, combine, overlapping
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

_OPTIONAL_INTS = ("client_id", "customer_group_id", "product_id", "product_group_id")
_CHOOSE = {
    "client_id": "Choose a client from the list.",
    "customer_group_id": "Choose a customer group from the list.",
    "product_id": "Choose a product from the list.",
    "product_group_id": "Choose a product group from the list.",
}


def _customer_groups() -> list[Any]:
    return db_session.execute(
        select(CustomerGroup.id, CustomerGroup.name).order_by(CustomerGroup.name)
    ).all()


def _choices() -> dict[str, Any]:
    kinds = current_kinds()
    return {
        "kinds": [(k.name, k.label) for k in kinds.values()],
        "modes": [(m, m.capitalize()) for m in MODES],
        "customer_groups": _customer_groups(),
        "kind_labels": {k.name: k.label for k in kinds.values()},
    }


def params_prefix(kind: str) -> str:
    """Each kind's parameter inputs carry its name, so that the forms of every kind can sit in
    one page (the chosen one shown) and only the chosen kind's are read."""
    return f"params[{kind}]."


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
        elif raw.isdigit():
            data[name] = int(raw)
        else:
            errors[name] = [_CHOOSE[name]]
    kind = current_kinds().get(data["kind"])
    data["params"] = {}
    if kind is not None:
        data["params"], param_errors = form_data(kind.schema, form, params_prefix(kind.name))
        for field, messages in param_errors.items():
            errors[params_prefix(kind.name) + field] = messages
    return data, errors


def _save(rule: PricingRule, form) -> tuple[dict[str, list[str]], dict[str, Any]]:
    """Validate the posted rule and, when it is right, copy it onto ``rule``: the errors by
    field (parameters by input name, and worded for the summary under ``params``) and the data."""
    data, errors = _form_data(form)
    if errors:
        # still validate the rest, so that every field's message shows at once
        data = {k: v for k, v in data.items() if k not in errors}
    kinds = current_kinds()
    schema = RuleSchema(kinds=kinds)
    try:
        loaded = schema.load(data)
        if not errors:
            apply_rule_data(db_session, rule, loaded)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        params = messages.pop("params", None)
        kind = kinds.get(data.get("kind", ""))
        if params and kind is not None:
            prefix = params_prefix(kind.name)
            for name, lines in errors_by_name(params, prefix.rstrip(".")).items():
                errors.setdefault(name, []).extend(lines)
            errors["params"] = error_lines(kind.schema, params)
        for key, value in field_errors(messages).items():
            errors.setdefault(key, []).extend(value)
    return errors, data


def _try(form, rule_id: int | None) -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    """Price one line with the rule as the form has it, unsaved (in place of the stored rule
    when editing): a manager sees the effect before saving. Nothing is written."""
    trial = PricingRule()
    errors, _ = _save(trial, form)
    quote = None
    try:
        loaded = QuoteRequestSchema().load(quote_input(form, "try_"))
        if not errors:
            quote = quote_one(loaded, extra_rules=[trial], exclude_rules=[rule_id])
    except ValidationError as exc:
        for key, value in quote_errors(exc, form, "try_").items():
            errors.setdefault(f"try_{key}", []).extend(value)
    db_session.rollback()
    return quote, errors


def _kind_forms(selected: str, params: dict[str, Any] | None, errors: dict[str, Any]):
    """Every kind's parameter form, the chosen kind's filled in (``params``) with its messages."""
    forms = []
    for kind in current_kinds().values():
        prefix = params_prefix(kind.name)
        if request.method == "POST":
            values, _ = form_data(kind.schema, request.form, prefix)
        else:
            values = params if kind.name == selected else None
        own = (
            {k: v for k, v in errors.items() if k.startswith(prefix)}
            if kind.name == selected
            else {}
        )
        fields = schema_form(kind.schema, values, None, prefix)
        _attach(fields, own)
        forms.append((kind, fields))
    return forms


def _attach(fields, errors: dict[str, list[str]]) -> None:
    """Put the messages of ``errors`` (by input name) on the described inputs."""
    for f in fields:
        f.errors = list(errors.get(f.name, []))
        _attach(f.children, errors)
        for row in f.rows:
            _attach(row, errors)


def _overlaps(form_values: dict[str, Any], rule_id: int | None):
    """The saved rules that concern the same clients and products, and how they combine."""
    data = {}
    for name in _OPTIONAL_INTS:
        raw = str(form_values.get(name) or "").strip()
        data[name] = int(raw) if raw.isdigit() else None
    for name in ("valid_from", "valid_to"):
        try:
            data[name] = date.fromisoformat(str(form_values.get(name) or ""))
        except ValueError:
            data[name] = None
    if not form_values.get("kind"):
        return [], None
    others = overlapping(db_session, data, rule_id)
    if not others:
        return [], None
    kinds = current_kinds()
    new = PricingRule(
        id=rule_id, name=str(form_values.get("name") or "") or "this rule",
        kind=str(form_values.get("kind")), mode=str(form_values.get("mode") or "stack"),
        priority=_int(form_values.get("priority")) or 100, params={},
    )  # fmt: skip
    if request.method == "POST" and new.kind in kinds:
        new.params, _ = form_data(kinds[new.kind].schema, request.form, params_prefix(new.kind))
    elif rule_id is not None:
        stored = db_session.get(PricingRule, rule_id)
        new.params = stored.params if stored is not None else {}
    combination = combine(
        as_engine_rule(new),
        [as_engine_rule(r) for r in others],
        {k: v.label for k, v in kinds.items()},
    )
    return others, combination


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
        "product_id": rule.product_id or "",
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
    """The rule form of a new rule (``rule`` None) or of a stored one: try it, or save it. A new
    rule of a kind already in force for the same clients and products is saved only once the
    manager has seen the rules it joins and confirmed."""
    errors: dict[str, list[str]] = {}
    trial = None
    if request.method == "POST" and request.form.get("action") == "try":
        trial, errors = _try(request.form, rule.id if rule else None)
    elif request.method == "POST":
        if rule is not None:
            check_version(rule, request.form.get("version", type=int))
        saving = rule if rule is not None else PricingRule()
        errors, _ = _save(saving, request.form)
        if not errors and rule is None and request.form.get("confirm_overlap") != "y":
            _, combination = _overlaps(request.form, None)
            if combination is not None and combination.same_kind:
                errors["confirm_overlap"] = [
                    "Rules of the same kind already apply to some of these clients and products "
                    "(listed above): tick the box to save this one as well."
                ]
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
    stored_params = rule.params if rule is not None else None
    kind_forms = _kind_forms(str(values.get("kind") or ""), stored_params, errors)
    others, combination = _overlaps(values, rule.id if rule else None)
    return render_template(
        "crm_pricing/rule_form.html", rule=rule, values=values, errors=errors, trial=trial,
        history=history, kind_forms=kind_forms,
        overlaps=others, combination=combination, **_choices(),
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
