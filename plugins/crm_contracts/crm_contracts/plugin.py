"""Manifest and hook implementations of crm_contracts.

The implementations live next to what they concern and are gathered here, where pluggy finds them.
"""

from __future__ import annotations

from sqlalchemy import or_, select, true

from core import Manifest, MenuItem, ModelDef, Permission, RecordPage, hookimpl
from core.record_rules import RecordRule
from core.reports import ReportDefinition
from crm_contacts.models import Client
from crm_contracts import pricing
from crm_contracts.commands import crm_commands, crm_jobs, crm_periodic_jobs  # noqa: F401
from crm_contracts.demo import crm_demo_data  # noqa: F401
from crm_contracts.models import Condition, Contract, ContractType, Reminder
from crm_contracts.numbering import add_default_types, settings
from crm_contracts.permissions import CONFIGURE, READ, RENEW, WRITE
from crm_contracts.schemas import ConditionSchema, ContractSchema
from crm_contracts.search import crm_search  # noqa: F401
from crm_contracts.sections import crm_client_file_sections  # noqa: F401
from crm_contracts.tasks import crm_tasks_completion_links  # noqa: F401

MANIFEST = Manifest(
    name="crm_contracts",
    label="Contracts",
    summary="Contracts, their validity and negotiated conditions",
    depends=("crm_contacts",),
    # Demo contracts negotiate prices of the demo catalogue when crm_sales is installed too.
    after=("crm_sales",),
    application=True,
)


@hookimpl
def crm_models():
    return [
        ModelDef(
            Contract,
            label="Contract",
            schema=ContractSchema,
            lookup=("number", "title"),
            lookup_filters=("client_id",),
            page=RecordPage("crm_contracts.contract_detail", "contract_id"),
        ),
        ModelDef(
            Condition, label="Contract condition", schema=ConditionSchema, owned_by="contract_id"
        ),
        ModelDef(ContractType, label="Contract type"),
        ModelDef(Reminder, label="Contract reminder", owned_by="contract_id"),
    ]


@hookimpl
def crm_blueprints():
    import crm_contracts.views  # noqa: F401 - registers the routes on the blueprints
    from crm_contracts.blueprints import api, bp

    return [bp, api]


@hookimpl
def crm_menus():
    return [
        MenuItem("crm_contracts.root", "Contracts", order=30),
        MenuItem("crm_contracts.contracts", "All contracts", endpoint="crm_contracts.contract_list",
                 parent="crm_contracts.root", order=10, permission=READ),
        MenuItem("crm_contracts.expiring", "Expiring soon", endpoint="crm_contracts.dashboard",
                 parent="crm_contracts.root", order=20, permission=READ),
        MenuItem("crm_contracts.new", "New contract",
                 endpoint="crm_contracts.contract_new_client", parent="crm_contracts.root",
                 order=30, permission=WRITE),
        MenuItem("crm_contracts.settings", "Contracts", endpoint="crm_contracts.settings_page",
                 parent="core.settings", order=60, permission=CONFIGURE),
    ]  # fmt: skip


@hookimpl
def crm_permissions():
    return [
        Permission(READ, "Read contracts", groups=("sales_manager", "sales_rep", "back_office")),
        Permission(WRITE, "Create and edit contracts", groups=("sales_manager", "back_office")),
        Permission(
            RENEW,
            "Prepare a contract's renewal (a draft that someone who edits contracts signs)",
            groups=("sales_manager", "sales_rep", "back_office"),
        ),
        Permission(
            CONFIGURE,
            "Edit contract types, numbering and the expiring window",
            groups=("sales_manager",),
        ),
    ]


# The subqueries of the rules read the tables, not the mapped classes: the rules are not applied
# inside a rule (a client's rule naming contracts, whose rule names clients, would nest on and on).
_client = Client.__table__.c


def _rep_contracts(user):
    """A representative's contracts: her clients', and those she was made responsible for (a
    manager assigned her their renewal: her notification must open them)."""
    # Her client's, probed by key: a list of her clients ORed with the assignment was hashed
    # again at every check of a contract (about 25 ms of a client file at 100,000 clients).
    of_her_client = (
        select(_client.id)
        .where(_client.id == Contract.client_id, _client.responsible_id == user.id)
        .exists()
    )
    return or_(of_her_client, Contract.responsible_id == user.id)


def _conditions_of_own_clients(user):
    """A condition of a contract the representative sees (her client's, or assigned to her),
    looked up row by row by the keys. Written on the tables, not the models: a subquery naming
    the models would get their own rules applied again inside it (the contracts', which list
    every client of the representative), and SQLite would build those lists for every
    statement, 16 ms each at 10,000 clients for the few conditions of one client file."""
    contracts, clients = Contract.__table__, Client.__table__
    return (
        select(contracts.c.id)
        .join(clients, clients.c.id == contracts.c.client_id)
        .where(
            contracts.c.id == Condition.contract_id,
            or_(clients.c.responsible_id == user.id, contracts.c.responsible_id == user.id),
        )
        .correlate_except(contracts, clients)
        .exists()
    )


@hookimpl
def crm_record_rules():
    # As crm_contacts does for clients: a representative sees the contracts of the clients they
    # are responsible for; managers and back office see all, even when they are representatives.
    return [
        RecordRule(
            "crm_contracts.own_clients",
            "Sales representatives see their own clients' contracts and those assigned to them",
            Contract,
            groups=("sales_rep",),
            criteria=_rep_contracts,
        ),
        RecordRule(
            "crm_contracts.all_contracts",
            "Sales managers and back office see all contracts",
            Contract,
            groups=("sales_manager", "back_office"),
            criteria=lambda user: true(),
        ),
        RecordRule(
            "crm_contracts.own_clients_conditions",
            "Sales representatives see only the conditions of the contracts they see",
            Condition,
            groups=("sales_rep",),
            criteria=_conditions_of_own_clients,
        ),
        RecordRule(
            "crm_contracts.all_conditions",
            "Sales managers and back office see all contract conditions",
            Condition,
            groups=("sales_manager", "back_office"),
            criteria=lambda user: true(),
        ),
    ]


@hookimpl
def crm_pricing_rules():
    return [pricing.rule_kind()]


@hookimpl
def crm_reports():
    model = Contract.__tablename__
    return [
        ReportDefinition(
            id="crm_contracts.expiring_by_month",
            title="Contracts expiring by month (next 12 months)",
            model=model,
            order=10,
            spec={
                "filters": [
                    {"field": "valid_to", "op": "next_n_days", "value": 365},
                    {"field": "status", "op": "in", "value": ["upcoming", "active", "expiring"]},
                ],
                "group_by": [{"field": "valid_to", "bucket": "month"}],
                "measures": [{"field": "id", "agg": "count"}, {"field": "value", "agg": "sum"}],
                "chart": {"type": "bar"},
            },
        ),
        ReportDefinition(
            id="crm_contracts.by_status_and_type",
            title="Contracts by status and type",
            model=model,
            columns=("status", "type_id", "id", "value"),
            filters=("status", "type_id", "client_id", "responsible_id", "valid_from"),
            group_by=("status", "type_id"),
            aggregates={"id": "count", "value": "sum"},
            chart="bar",
        ),
        ReportDefinition(
            id="crm_contracts.expiring",
            title="Expiring contracts",
            model=model,
            columns=("number", "client_id", "title", "valid_to", "responsible_id", "value"),
            filters=("status", "valid_to", "responsible_id", "type_id"),
            group_by=(),
            aggregates={},
            chart=None,
        ),
        ReportDefinition(
            id="crm_contracts.value_by_client",
            title="Contract value by client",
            model=model,
            columns=("client_id", "value", "id"),
            filters=("status", "type_id", "valid_from", "currency"),
            group_by=("client_id", "currency"),
            aggregates={"value": "sum", "id": "count"},
            chart="bar",
        ),
    ]


@hookimpl
def crm_install(session):
    settings(session)
    add_default_types(session)
    session.flush()
