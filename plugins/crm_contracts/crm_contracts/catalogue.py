"""The product catalogue of ``crm_sales``, when it is installed, reached without importing it.

``crm_contracts`` keeps products and product groups as codes with a display name, so that it works
without a catalogue. When ``crm_sales`` is installed, its models are in the model registry under
their table names (``crm_sales_product``: ``code``, ``name``, ``group_id``;
``crm_sales_product_group``: ``code``, ``name``, ``parent_id``, ``path``): the forms offer their
codes as choices, and a code typed that the catalogue does not know is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import has_app_context
from sqlalchemy import select

from core.db import db_session
from core.state import current_state

PRODUCT_TABLE = "crm_sales_product"
GROUP_TABLE = "crm_sales_product_group"
MAX_PRODUCT_CHOICES = 500


@dataclass(frozen=True)
class Catalogue:
    product: type | None
    group: type | None

    def product_name(self, code: str) -> str | None:
        """The product's name, or None when the catalogue has no such code."""
        if self.product is None:
            return None
        return db_session.scalar(select(self.product.name).where(self.product.code == code))

    def group_name(self, code: str) -> str | None:
        if self.group is None:
            return None
        return db_session.scalar(select(self.group.name).where(self.group.code == code))

    def product_choices(self) -> list[tuple[str, str]]:
        if self.product is None:
            return []
        return [
            (code, name)
            for code, name in db_session.execute(
                select(self.product.code, self.product.name)
                .order_by(self.product.code)
                .limit(MAX_PRODUCT_CHOICES)
            )
        ]

    def group_choices(self) -> list[tuple[str, str]]:
        if self.group is None:
            return []
        order = getattr(self.group, "path", self.group.code)
        return [
            (code, name)
            for code, name in db_session.execute(
                select(self.group.code, self.group.name).order_by(order)
            )
        ]


def catalogue() -> Catalogue | None:
    """The installed catalogue's models, or None without ``crm_sales`` (or outside the app)."""
    if not has_app_context():
        return None

    models = current_state().models
    product = models.get(PRODUCT_TABLE).model if PRODUCT_TABLE in models else None
    group = models.get(GROUP_TABLE).model if GROUP_TABLE in models else None
    if product is None and group is None:
        return None
    return Catalogue(product, group)
