"""Reminders of contracts that entered the expiring window, once per contract and end date: a
periodic job every morning at 07:00 in the installation's time zone (run by ``crm worker``), and
``crm contracts remind`` for those who prefer cron."""

from __future__ import annotations

from datetime import date

import click
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from core import hookimpl
from core.db import db_session
from core.notifications import notify
from crm_contracts.models import Contract, Reminder


def ends_on(contract: Contract) -> date | None:
    """The last day that counts: its end, or an announced termination when that comes first."""
    days = [d for d in (contract.valid_to, contract.terminated_on) if d is not None]
    return min(days) if days else None


def send_reminders(session: Session) -> list[Reminder]:
    """Remind the representatives of contracts in their expiring window that were not reminded
    for this end date yet. A contract whose end moves (extended) is reminded again when it
    re-enters the window. Three queries and one insert per reminder."""
    contracts = session.scalars(
        select(Contract)
        .where(Contract.status == "expiring")
        .options(joinedload(Contract.client))
        .order_by(Contract.id)
        .execution_options(crm_all_records=True)
    ).all()
    if not contracts:
        return []
    sent = set(
        session.execute(
            select(Reminder.contract_id, Reminder.ends_on).where(
                Reminder.contract_id.in_([c.id for c in contracts])
            )
        ).all()
    )
    reminders = []
    for contract in contracts:
        end = ends_on(contract)
        if end is None or (contract.id, end) in sent:
            continue
        user_id = contract.responsible_id or contract.client.responsible_id
        reminder = Reminder(contract_id=contract.id, ends_on=end, user_id=user_id)
        session.add(reminder)
        reminders.append(reminder)
        if user_id is not None:
            notify(
                session,
                user_id,
                f"Contract {contract.number} with {contract.client.name} ends on "
                f"{end.isoformat()}: renew it or let it end.",
                url=f"/contracts/{contract.id}",
            )
    session.flush()
    return reminders


def contracts_cli() -> click.Group:
    """A new group each time: the core wraps the commands it is given (module installed?)."""

    @click.group("contracts")
    def contracts() -> None:
        """Contracts: reminders of contracts about to end."""

    @contracts.command("remind")
    @with_appcontext
    def remind() -> None:
        """Notify representatives of the contracts that entered the expiring window (run daily
        from cron; each contract is reminded once per end date)."""
        reminders = send_reminders(db_session)
        db_session.commit()
        click.echo(f"{len(reminders)} reminders sent.")

    return contracts


@hookimpl
def crm_commands() -> list[click.Command]:
    return [contracts_cli()]


def remind_job(ctx) -> None:
    reminders = send_reminders(ctx.session)
    ctx.result_summary(f"{len(reminders)} reminders sent.")


@hookimpl
def crm_jobs():
    from core.jobs import JobDef

    return [JobDef("crm_contracts.remind", remind_job, "Reminders of expiring contracts")]


@hookimpl
def crm_periodic_jobs():
    from core.jobs import PeriodicJob, crontab

    return [
        PeriodicJob("crm_contracts.remind", "crm_contracts.remind", crontab(minute="0", hour="7"))
    ]
