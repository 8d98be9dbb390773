"""Manifest and hook implementations of crm_contacts.

The implementations live next to what they concern and are gathered here, where pluggy finds them.
"""

from __future__ import annotations

from sqlalchemy import true

from core import Manifest, MenuItem, ModelDef, Permission, RecordPage, hookimpl
from core.record_rules import RecordRule
from core.reports import ReportDefinition
from crm_contacts import hookspecs
from crm_contacts.client_columns import crm_contacts_client_columns  # noqa: F401
from crm_contacts.commands import crm_commands  # noqa: F401
from crm_contacts.demo import crm_demo_data  # noqa: F401
from crm_contacts.home import crm_home_widgets  # noqa: F401
from crm_contacts.import_jobs import crm_jobs  # noqa: F401
from crm_contacts.models import (
    Address,
    BankAccount,
    Client,
    Contact,
    ContactType,
    CustomerGroup,
    Email,
    Person,
    Phone,
)
from crm_contacts.permissions import CONFIGURE, DELETE, IMPORT, READ, WRITE
from crm_contacts.schemas import ClientSchema, ContactApiSchema, PersonSchema
from crm_contacts.search import crm_search  # noqa: F401
from crm_contacts.sections import crm_client_file_sections  # noqa: F401

# Where the report generator's drill-downs link a client, and what is shown on a client's file.
CLIENT_FILE = RecordPage("crm_contacts.client_file", "client_id")
ON_CLIENT_FILE = RecordPage("crm_contacts.client_file", "client_id", "client_id")

MANIFEST = Manifest(
    name="crm_contacts",
    label="Contacts",
    summary="Clients, contact persons and the history of contacts",
    application=True,
)


@hookimpl
def crm_addhooks(pluginmanager):
    pluginmanager.add_hookspecs(hookspecs)


@hookimpl
def crm_models():
    return [
        ModelDef(
            Client,
            label="Client",
            schema=ClientSchema,
            # search_text holds the name, VAT number, city, phones and people: one column to search
            lookup=("name", "search_text"),
            lookup_detail=("vat_number",),
            page=CLIENT_FILE,
        ),
        # Everything stored about a client follows the client's record rules (owned_by).
        ModelDef(
            Person,
            label="Contact person",
            schema=PersonSchema,
            owned_by="client_id",
            lookup=("name", "position"),
            lookup_filters=("client_id",),
            page=ON_CLIENT_FILE,
        ),
        ModelDef(
            Contact,
            label="Contact",
            schema=ContactApiSchema,
            owned_by="client_id",
            page=ON_CLIENT_FILE,
        ),
        ModelDef(Address, label="Address", plural="Addresses", owned_by="client_id"),
        ModelDef(Phone, label="Phone number", owned_by="client_id"),
        ModelDef(Email, label="Email address", plural="Email addresses", owned_by="client_id"),
        ModelDef(BankAccount, label="Bank account", owned_by="client_id"),
        ModelDef(CustomerGroup, label="Customer group"),
        ModelDef(ContactType, label="Contact type"),
    ]


@hookimpl
def crm_blueprints():
    import crm_contacts.views  # noqa: F401 - registers the routes on the blueprints
    from crm_contacts.blueprints import api, bp

    return [bp, api]


@hookimpl
def crm_menus():
    return [
        MenuItem("crm_contacts.root", "Clients", order=10),
        MenuItem("crm_contacts.clients", "All clients", endpoint="crm_contacts.client_list",
                 parent="crm_contacts.root", order=10, permission=READ),
        MenuItem("crm_contacts.new", "New client", endpoint="crm_contacts.client_new",
                 parent="crm_contacts.root", order=20, permission=WRITE),
        MenuItem("crm_contacts.agenda", "My agenda", endpoint="crm_contacts.agenda",
                 parent="crm_contacts.root", order=30, permission=READ),
        MenuItem("crm_contacts.import", "Import clients", endpoint="crm_contacts.import_clients",
                 parent="crm_contacts.root", order=40, permission=IMPORT),
        MenuItem("crm_contacts.customer_groups", "Customer groups",
                 endpoint="crm_contacts.customer_groups", parent="core.settings", order=50,
                 permission=CONFIGURE),
        MenuItem("crm_contacts.contact_types", "Contact types",
                 endpoint="crm_contacts.contact_types", parent="core.settings", order=51,
                 permission=CONFIGURE),
        MenuItem("crm_contacts.regions", "Regions", endpoint="crm_contacts.regions",
                 parent="core.settings", order=52, permission=CONFIGURE),
    ]  # fmt: skip


@hookimpl
def crm_permissions():
    everyone = ("sales_manager", "sales_rep", "back_office")
    return [
        Permission(READ, "Read clients and their contacts", groups=everyone),
        Permission(WRITE, "Create and edit clients, log contacts", groups=everyone),
        Permission(DELETE, "Delete clients", groups=("sales_manager",)),
        Permission(
            IMPORT, "Import and export clients (CSV)", groups=("sales_manager", "back_office")
        ),
        Permission(
            CONFIGURE, "Edit customer groups, regions and contact types", groups=("sales_manager",)
        ),
    ]


@hookimpl
def crm_record_rules():
    return [
        RecordRule(
            "crm_contacts.own_clients",
            "Sales representatives see only the clients they are responsible for",
            Client,
            groups=("sales_rep",),
            criteria=lambda user: Client.responsible_id == user.id,
        ),
        # Managers and back office see every client, even when they are representatives too.
        RecordRule(
            "crm_contacts.all_clients",
            "Sales managers and back office see all clients",
            Client,
            groups=("sales_manager", "back_office"),
            criteria=lambda user: true(),
        ),
    ]


@hookimpl
def crm_reports():
    return [
        ReportDefinition(
            id="crm_contacts.contacts_type_representative_month",
            title="Contacts by type and representative, per month",
            model=Contact.__tablename__,
            order=10,
            spec={
                "filters": [
                    {"field": "starts_at", "op": "last_n_days", "value": 365},
                    {"field": "state", "op": "=", "value": "done"},
                ],
                "group_by": [
                    {"field": "contact_type.name"},
                    {"field": "user.name"},
                    {"field": "starts_at", "bucket": "month"},
                ],
                "measures": [{"field": "id", "agg": "count"}],
                "pivot": "starts_at",
                "chart": {"type": "heatmap"},
            },
        ),
        ReportDefinition(
            id="crm_contacts.clients_by_group_representative",
            title="Clients by customer group and representative",
            model=Client.__tablename__,
            order=20,
            spec={
                "group_by": [{"field": "customer_group.name"}, {"field": "responsible.name"}],
                "measures": [{"field": "id", "agg": "count"}],
                "pivot": "responsible.name",
                "chart": {"type": "stacked_bar"},
            },
        ),
    ]
