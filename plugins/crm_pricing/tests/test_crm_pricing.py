"""crm_pricing: installing the module and what it declares."""

from importlib import metadata

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import PermissionRecord
from core.modules import installed_modules
from crm_pricing.plugin import MANIFEST


def test_installing_crm_pricing_pulls_in_crm_sales_and_crm_contacts(crm_app_factory):
    app = crm_app_factory(["crm_pricing"])
    with app.extensions["crm"].engine.connect() as connection:
        assert installed_modules(connection) == ["crm_contacts", "crm_pricing", "crm_sales"]


def test_crm_pricing_permissions_are_stored_with_their_default_groups(crm_app_factory):
    app = crm_app_factory(["crm_pricing"])
    with Session(app.extensions["crm"].engine) as session:
        records = session.scalars(
            select(PermissionRecord).where(PermissionRecord.module == "crm_pricing")
        ).all()
        granted = {r.code: sorted(g.code for g in r.groups) for r in records}
    assert granted == {
        "crm_pricing.read": ["admin", "back_office", "sales_manager", "sales_rep"],
        "crm_pricing.write": ["admin", "sales_manager"],
    }


def test_the_distribution_requires_the_core_and_the_modules_in_depends():
    required = {r.split(";")[0].strip() for r in metadata.requires("crm-pricing") or ()}
    assert required == {"crm-core", *(d.replace("_", "-") for d in MANIFEST.depends)}
