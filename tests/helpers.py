"""Small helpers shared by the core's tests."""

from __future__ import annotations

import socket

from click.testing import CliRunner, Result
from flask import Flask
from flask.cli import ScriptInfo
from sqlalchemy import inspect

from core.cli import main
from core.testing import form_fields

# The modules shipped with the CRM, under plugins/.
BUNDLED_MODULES = (
    "crm_contacts",
    "crm_tasks",
    "crm_contracts",
    "crm_sales",
    "crm_pricing",
    "crm_competitors",
    "crm_advertising",
    "crm_reports",
)


def run_cli(app: Flask, *args: str) -> Result:
    """Run the real ``crm`` command group against ``app``'s database."""
    return CliRunner().invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app))


def tables(app: Flask) -> set[str]:
    with app.extensions["crm"].engine.connect() as connection:
        return set(inspect(connection).get_table_names())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def client_edit_form(http, client_id: int) -> dict[str, str | list[str]]:
    """The fields of a client's edit form as the browser would post them back."""
    url = f"/contacts/clients/{client_id}/edit"
    return form_fields(http.get(url).get_data(as_text=True), action=url)
