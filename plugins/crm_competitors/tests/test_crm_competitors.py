"""crm_competitors: installing the module and what it declares."""

from importlib import metadata

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import PermissionRecord
from core.modules import installed_modules
from crm_competitors.plugin import MANIFEST


def test_installing_crm_competitors_pulls_in_crm_contacts(crm_app_factory):
    app = crm_app_factory(["crm_competitors"])
    with app.extensions["crm"].engine.connect() as connection:
        assert installed_modules(connection) == ["crm_competitors", "crm_contacts"]


def test_crm_competitors_permissions_are_stored_with_their_default_groups(crm_app_factory):
    app = crm_app_factory(["crm_competitors"])
    with Session(app.extensions["crm"].engine) as session:
        records = session.scalars(
            select(PermissionRecord).where(PermissionRecord.module == "crm_competitors")
        ).all()
        granted = {r.code: sorted(g.code for g in r.groups) for r in records}
    assert granted == {
        "crm_competitors.read": ["admin", "sales_manager", "sales_rep"],
        "crm_competitors.write": ["admin", "sales_manager", "sales_rep"],
    }


def test_the_distribution_requires_the_core_and_the_modules_in_depends():
    required = {r.split(";")[0].strip() for r in metadata.requires("crm-competitors") or ()}
    assert required == {"crm-core", *(d.replace("_", "-") for d in MANIFEST.depends)}
