"""Settings and database plumbing: .env files, URLs, SQLite pragmas, the session per request."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from core.app import create_app
from core.config import load_settings
from core.db import db_session


def test_dotenv_file_supplies_settings(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # Registered with monkeypatch so that what load_dotenv puts in os.environ is removed afterwards.
    for name in ("DATABASE_URL", "SECRET_KEY"):
        monkeypatch.setenv(name, "placeholder")
        monkeypatch.delenv(name)
    (tmp_path / ".env").write_text(
        f"DATABASE_URL=sqlite:///{tmp_path}/from-dotenv.sqlite3\nSECRET_KEY=from-dotenv\n"
    )
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance")})
    assert app.config["DATABASE_URL"].endswith("from-dotenv.sqlite3")
    assert app.config["SECRET_KEY"] == "from-dotenv"
    app.extensions["crm"].engine.dispose()


def test_defaults_keep_everything_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    settings = load_settings({"INSTANCE_PATH": str(tmp_path)})
    assert settings["DATABASE_URL"] == f"sqlite:///{tmp_path}/crm.sqlite3"
    key = (tmp_path / "secret_key").read_text()
    assert len(key) == 64 and load_settings({"INSTANCE_PATH": str(tmp_path)})["SECRET_KEY"] == key


@pytest.mark.parametrize(
    "given",
    ["postgres://crm@db/crm", "postgresql://crm@db/crm", "postgresql+psycopg://crm@db/crm"],
)
def test_postgres_urls_use_psycopg3(given, tmp_path):
    settings = load_settings({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": given})
    assert settings["DATABASE_URL"] == "postgresql+psycopg://crm@db/crm"


def test_sqlite_has_foreign_keys_and_wal(crm_app_factory, crm_databases):
    if crm_databases.postgres:
        pytest.skip("SQLite pragmas: this run is on PostgreSQL")
    app = crm_app_factory()
    with app.app_context():
        assert db_session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert db_session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        # The file read through memory mapped (SQLite caps the size at its build's limit).
        assert db_session.execute(text("PRAGMA mmap_size")).scalar() > 2**30


def test_sqlite_memory_mapping_can_be_turned_off(crm_app_factory, crm_databases, monkeypatch):
    if crm_databases.postgres:
        pytest.skip("SQLite pragmas: this run is on PostgreSQL")
    monkeypatch.setenv("CRM_SQLITE_MMAP_SIZE", "0")
    app = crm_app_factory()
    assert app.config["SQLITE_MMAP_SIZE"] == 0
    with app.app_context():
        assert db_session.execute(text("PRAGMA mmap_size")).scalar() == 0


def test_one_session_per_request_closed_at_teardown(crm_app):
    with crm_app.test_request_context("/"):
        first = db_session._get_current_object()
        assert db_session._get_current_object() is first
    with crm_app.test_request_context("/"):
        assert db_session._get_current_object() is not first
