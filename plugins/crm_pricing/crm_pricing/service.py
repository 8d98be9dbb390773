"""Pricing against the database: one run per quote, batch or price list.

A ``PricingRun`` loads, once, everything the engine needs for one client on one date: the client,
the rules that concern it (its own, its customer group's, everyone's: one query, with the names of
their products and groups), the caps, the product-group tree (for every product's group path), and
what each kind's ``prepare`` wants. Products come in one query. Turnover figures are asked of
crm_sales once per distinct (period, groups, measure) and cached for the run. So a quote, a batch
of lines and a price list of 10,000 products cost the same, small, number of queries.
"""

from __future__ import annotations

import gc
import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from marshmallow import Schema, ValidationError
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from core.pricing import PricingContext, PricingRuleKind
from core.state import current_state
from crm_contacts.models import Client
from crm_pricing.engine import STACK, Memo, PriceResult, Rule, price, sort_rules
from crm_pricing.kinds import MEMO_KEYS, prepare_group_names
from crm_pricing.models import DiscountCap, PricingRule
from crm_sales.models import Product, ProductGroup
from crm_sales.turnover import turnover, turnover_in_ranges

log = logging.getLogger(__name__)


@lru_cache(maxsize=4096)
def stored_params(schema: type[Schema], params_json: str) -> Mapping[str, Any]:
    """Stored parameters loaded by their kind's schema, remembered across runs (the same text
    always loads the same): read-only, the engine gives kinds a copy."""
    return MappingProxyType(validate_params_with(schema, json.loads(params_json)))


def validate_params_with(schema: type[Schema], params: Any) -> dict[str, Any]:
    if not isinstance(params, dict):
        raise ValidationError({"params": ["Must be a JSON object."]})
    return schema().load(params)


@dataclass(frozen=True)
class ClientFacts:
    id: int
    name: str
    customer_group_id: int | None
    payment_term_days: int | None


@dataclass(frozen=True)
class ProductRow:
    id: int
    code: str
    name: str
    unit: str
    list_price: Decimal
    currency: str
    group_id: int | None


PRODUCT_COLUMNS = (
    Product.id,
    Product.code,
    Product.name,
    Product.unit,
    Product.list_price,
    Product.currency,
    Product.group_id,
)


def load_products(
    session: Session,
    *,
    ids: Iterable[int] | None = None,
    codes: Iterable[str] | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[ProductRow]:
    """Products in one query: the given ids or codes, else every active product (a page of them
    with ``limit``), ordered by group name then product name (how price lists read)."""
    stmt = select(*PRODUCT_COLUMNS).outerjoin(ProductGroup, Product.group_id == ProductGroup.id)
    if ids is not None or codes is not None:
        stmt = stmt.where(or_(Product.id.in_(list(ids or ())), Product.code.in_(list(codes or ()))))
    else:
        stmt = stmt.where(Product.active.is_(True))
    stmt = stmt.order_by(ProductGroup.name.is_(None), ProductGroup.name, Product.name, Product.id)
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    return [ProductRow(*row) for row in session.execute(stmt)]


def count_products(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Product).where(Product.active.is_(True)))


@dataclass
class GroupTree:
    """Every product group's path, nearest first: ids and codes, and names for display."""

    paths: dict[int, tuple[tuple[int, ...], tuple[str, ...]]] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session) -> GroupTree:
        rows = session.execute(
            select(ProductGroup.id, ProductGroup.code, ProductGroup.name, ProductGroup.path)
        ).all()
        codes = {gid: code for gid, code, _, _ in rows}
        tree = cls(names={gid: name for gid, _, name, _ in rows})
        for gid, _, _, path in rows:
            ids = tuple(int(p) for p in (path or "").strip("/").split("/") if p) or (gid,)
            nearest = tuple(reversed(ids))
            tree.paths[gid] = (nearest, tuple(codes.get(i, "") for i in nearest))
        return tree

    def path(self, group_id: int | None) -> tuple[tuple[int, ...], tuple[str, ...]]:
        if group_id is None:
            return (), ()
        return self.paths.get(group_id, ((group_id,), ("",)))


class CachedTurnover:
    """The client's turnover, asked of crm_sales once per distinct question in a run."""

    def __init__(self, session: Session, client_id: int) -> None:
        self.session, self.client_id = session, client_id
        self.cache: dict[tuple, Decimal] = {}

    def prefetch(self, questions: Iterable[tuple]) -> None:
        """Answer at once the questions ``(start, end, product_group_ids, quantity)`` about all
        products' turnover in money (what turnover tiers ask): one query, not one each."""
        ranges = sorted({(q[0], q[1]) for q in questions if not q[2] and not q[3]})
        ranges = [r for r in ranges if (*r, None, False) not in self.cache]
        for (start, end), amount in zip(
            ranges, turnover_in_ranges(self.session, self.client_id, ranges), strict=True
        ):
            self.cache[start, end, None, False] = amount

    def __call__(self, start, end, product_group_ids=None, *, quantity=False) -> Decimal:
        groups = tuple(product_group_ids) if product_group_ids else None
        key = (start, end, groups, quantity)
        if key not in self.cache:
            self.cache[key] = turnover(
                self.session, (self.client_id,), start, end, groups, quantity=quantity
            )
        return self.cache[key]


def _scope_label(code: str | None, group_name: str | None) -> str:
    if code:
        return f"product {code}"
    if group_name:
        return f"product group {group_name}"
    return ""


#: The condition of the rules for every client (neither a client's nor a customer group's).
EVERYONE = and_(PricingRule.client_id.is_(None), PricingRule.customer_group_id.is_(None))


def own_and_group(client: Any) -> list[Any]:
    """The conditions of the rules for the client itself and for its customer group."""
    whom = [PricingRule.client_id == client.id]
    if client.customer_group_id is not None:
        whom.append(
            and_(
                PricingRule.client_id.is_(None),
                PricingRule.customer_group_id == client.customer_group_id,
            )
        )
    return whom


def _concerns(rule: PricingRule, client: ClientFacts) -> bool:
    if rule.client_id is not None:
        return rule.client_id == client.id
    if rule.customer_group_id is not None:
        return rule.customer_group_id == client.customer_group_id
    return True


def load_rules(
    session: Session,
    client: ClientFacts,
    kinds: Mapping[str, PricingRuleKind],
    *,
    extra: Iterable[PricingRule] = (),
    exclude: Iterable[int] = (),
) -> list[Rule]:
    """The active rules for the client (its own, its group's, everyone's) as the engine takes
    them, in one query; plus the implicit rules of automatic kinds nobody configured. ``extra``
    are unsaved rules (a manager tries a rule before saving it), which take the place of the
    stored rules of the ids in ``exclude`` (the rule being edited)."""
    stmt = (
        select(PricingRule, Product.code, ProductGroup.name)
        .outerjoin(Product, PricingRule.product_id == Product.id)
        .outerjoin(ProductGroup, PricingRule.product_group_id == ProductGroup.id)
        .where(PricingRule.active.is_(True), or_(*own_and_group(client), EVERYONE))
    )
    exclude = [i for i in exclude if i is not None]
    if exclude:
        stmt = stmt.where(PricingRule.id.not_in(exclude))
    rows = [(r, code, group) for r, code, group in session.execute(stmt)]
    rows += [(r, None, None) for r in extra if r.active and _concerns(r, client)]
    rules: list[Rule] = []
    for record, code, group_name in rows:
        kind = kinds.get(record.kind)
        params: Mapping[str, Any] = {}
        error = None
        if kind is not None:
            try:
                params = stored_params(kind.schema, record.params_json or "{}")
            except (ValidationError, ValueError) as exc:
                error = f"its parameters are not valid for its kind: {exc}"
        rules.append(
            Rule(
                id=record.id,
                name=record.name,
                kind=record.kind,
                params=params,
                mode=record.mode,
                priority=record.priority,
                product_id=record.product_id,
                product_group_id=record.product_group_id,
                valid_from=record.valid_from,
                valid_to=record.valid_to,
                products_label=_scope_label(code, group_name),
                error=error,
            )
        )
    configured = {r.kind for r in rules}
    for kind in kinds.values():
        if kind.automatic and kind.name not in configured:
            rules.append(Rule(None, kind.label, kind.name, {}, STACK, kind.order))
    return sort_rules(rules)


def cap_column():
    """The client's cap as a column of the client's query: its customer group's, else the
    installation's, else NULL (so that loading a client and its cap is one query)."""
    group_cap = (
        select(DiscountCap.percent)
        .where(DiscountCap.customer_group_id == Client.customer_group_id)
        .scalar_subquery()
    )
    wide_cap = (
        select(DiscountCap.percent).where(DiscountCap.customer_group_id.is_(None)).scalar_subquery()
    )
    return func.coalesce(group_cap, wide_cap)


def current_kinds() -> dict[str, PricingRuleKind]:

    return {k.name: k for k in current_state().pricing_rule_kinds}


class UnknownClient(LookupError):
    pass


class PricingRun:
    """Everything needed to price lines for one client on one date, loaded once."""

    def __init__(
        self,
        session: Session,
        client_id: int,
        on: date,
        *,
        kinds: Mapping[str, PricingRuleKind] | None = None,
        extra_rules: Iterable[PricingRule] = (),
        exclude_rules: Iterable[int] = (),
    ) -> None:
        self.session, self.on = session, on
        self.kinds = dict(kinds) if kinds is not None else current_kinds()
        row = session.execute(
            select(Client.id, Client.name, Client.customer_group_id, Client.payment_term_days,
                   cap_column())
            .where(Client.id == client_id)
        ).first()  # fmt: skip
        if row is None:
            raise UnknownClient(client_id)
        self.client = ClientFacts(*row[:4])
        self.cap: Decimal | None = row[4]
        self.rules = load_rules(
            session, self.client, self.kinds, extra=extra_rules, exclude=exclude_rules
        )
        self.groups = GroupTree.load(session)
        self.turnover = CachedTurnover(session, client_id)
        self.memo = Memo(MEMO_KEYS)
        self.prepared: dict[str, Any] = {}
        for name in sorted({r.kind for r in self.rules}):
            kind = self.kinds.get(name)
            if kind is not None and kind.prepare is prepare_group_names:
                self.prepared[name] = {"groups": self.groups.names}  # loaded already
            elif kind is not None and kind.prepare is not None:
                try:
                    self.prepared[name] = kind.prepare(session, (client_id,), on)
                except Exception:  # a kind's failure is explained per rule, never fatal
                    log.exception("prepare of pricing rule kind %s failed", name)

    def payment_days(self, requested: int | None) -> int | None:
        return requested if requested is not None else self.client.payment_term_days

    def context(
        self, product: ProductRow, quantity: Decimal, payment_days: int | None
    ) -> PricingContext:
        ids, codes = self.groups.path(product.group_id)
        # A frozen dataclass's __init__ sets each field through object.__setattr__: filling the
        # instance's __dict__ at once is the same object, several times faster, which a price
        # list of 10,000 lines notices.
        context = object.__new__(PricingContext)
        context.__dict__.update(
            client_id=self.client.id,
            customer_group_id=self.client.customer_group_id,
            product_id=product.id,
            product_code=product.code,
            product_group_ids=ids,
            product_group_codes=codes,
            quantity=quantity,
            on=self.on,
            payment_days=self.payment_days(payment_days),
            list_price=product.list_price,
            currency=product.currency,
            turnover=self.turnover,
            session=self.session,
        )
        return context

    def price(
        self, product: ProductRow, quantity: Decimal = Decimal(1), payment_days: int | None = None
    ) -> PriceResult:
        return price(
            self.context(product, quantity, payment_days),
            self.rules,
            self.kinds,
            cap=self.cap,
            prepared=self.prepared,
            presorted=True,
            memo=self.memo,
        )

    def group_name(self, group_id: int | None) -> str:
        return self.groups.names.get(group_id, "") if group_id is not None else ""


@dataclass
class PriceListLine:
    product: ProductRow
    group: str
    result: PriceResult


def price_list(
    session: Session,
    client_id: int,
    on: date,
    *,
    quantity: Decimal = Decimal(1),
    payment_days: int | None = None,
    kinds: Mapping[str, PricingRuleKind] | None = None,
) -> tuple[PricingRun, list[PriceListLine]]:
    """Every active product at the client's price on ``on``, grouped by product group."""
    run = PricingRun(session, client_id, on, kinds=kinds)
    with gc_paused():  # see price_lines
        return run, price_lines(run, load_products(session), quantity, payment_days)


def price_lines(
    run: PricingRun,
    products: Iterable[ProductRow],
    quantity: Decimal = Decimal(1),
    payment_days: int | None = None,
) -> list[PriceListLine]:
    # Pricing allocates a few small objects per line and keeps them: the cyclic garbage collector
    # would walk every one of them again and again as they pile up (none are cycles; reference
    # counting frees them), so it waits until the list is done.
    with gc_paused():
        return [
            PriceListLine(product, run.group_name(product.group_id) or "Without a group",
                          run.price(product, quantity, payment_days))
            for product in products
        ]  # fmt: skip


@contextmanager
def gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
