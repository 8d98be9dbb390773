"""Small helpers shared by the core's tests."""

from __future__ import annotations

import socket

from click.testing import CliRunner, Result
from flask import Flask
from flask.cli import ScriptInfo
from sqlalchemy import inspect

from core.cli import main


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
