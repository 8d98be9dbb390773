"""crm_sales: installing the module and what it declares."""

from importlib import metadata

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import PermissionRecord
from core.modules import installed_modules
from crm_sales.plugin import MANIFEST


def test_installing_crm_sales_pulls_in_crm_contacts(crm_app_factory):
    app = crm_app_factory(["crm_sales"])
    with app.extensions["crm"].engine.connect() as connection:
        assert installed_modules(connection) == ["crm_contacts", "crm_sales"]


def test_crm_sales_permissions_are_stored_with_their_default_groups(crm_app_factory):
    app = crm_app_factory(["crm_sales"])
    with Session(app.extensions["crm"].engine) as session:
        records = session.scalars(
            select(PermissionRecord).where(PermissionRecord.module == "crm_sales")
        ).all()
        granted = {r.code: sorted(g.code for g in r.groups) for r in records}
    assert granted == {
        "crm_sales.read": ["admin", "back_office", "sales_manager", "sales_rep"],
        "crm_sales.write": ["admin", "back_office", "sales_manager", "sales_rep"],
    }


def test_the_distribution_requires_the_core_and_the_modules_in_depends():
    required = {r.split(";")[0].strip() for r in metadata.requires("crm-sales") or ()}
    assert required == {"crm-core", *(d.replace("_", "-") for d in MANIFEST.depends)}
