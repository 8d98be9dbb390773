"""Settings from the environment (and a ``.env`` file in the working directory)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from core.db import SQLITE_MMAP_SIZE
from core.timezone import check_zone_name


def instance_path() -> Path:
    return Path(os.environ.get("CRM_INSTANCE_PATH") or Path.cwd() / "instance").resolve()


def _secret_key(folder: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in the instance folder,
    so sessions survive a restart without anybody having to invent a key for a local install."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = folder / "secret_key"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _normalise_url(url: str) -> str:
    # psycopg 3 is the PostgreSQL driver; accept the plain URLs people copy from their hosting.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load_settings(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    overrides = dict(overrides or {})
    folder = Path(overrides.pop("INSTANCE_PATH", None) or instance_path())
    folder.mkdir(parents=True, exist_ok=True)
    url = overrides.pop("DATABASE_URL", None) or os.environ.get("DATABASE_URL")
    settings: dict[str, Any] = {
        "INSTANCE_PATH": str(folder),
        "DATABASE_URL": _normalise_url(url or f"sqlite:///{folder / 'crm.sqlite3'}"),
        "SECRET_KEY": overrides.pop("SECRET_KEY", None) or _secret_key(folder),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("CRM_HTTPS", "") == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "API_MAX_PER_PAGE": 100,
        # SQLite reads its file through memory mapped, up to this many bytes (0: by read()
        # calls into its 2 MB page cache). At 1,000,000 clients (a 1.5 GB file) a search whose
        # 16,230 matches sit on as many pages of the client table spent 27 of its 40 ms of SQL
        # in those calls; mapped, 15 ms. The mapped pages are the operating system's file cache,
        # shared, not the process's own memory, though they count in its resident size (RSS).
        "SQLITE_MMAP_SIZE": int(os.environ.get("CRM_SQLITE_MMAP_SIZE") or SQLITE_MMAP_SIZE),
        "TRUSTED_PROXIES": int(os.environ.get("CRM_TRUSTED_PROXIES", "0") or 0),
        "TIMEZONE": check_zone_name(os.environ.get("CRM_TIMEZONE") or "UTC"),
        # What turnover is counted in and price lists are quoted in (ISO 4217 code).
        "CURRENCY": (os.environ.get("CRM_CURRENCY") or "EUR").upper(),
        # Where failed logins are counted (core/throttle.py): redis://… when several workers or
        # hosts serve the site, so that they share the count.
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI") or "memory://",
        # Attachments (core/attachments.py): an fsspec URL (a folder, s3://bucket/prefix...), the
        # largest file accepted, and how long an unreferenced file waits before the clean-up.
        "ATTACHMENTS_URL": os.environ.get("CRM_ATTACHMENTS_URL") or str(folder / "attachments"),
        "ATTACHMENT_MAX_BYTES": int(os.environ.get("CRM_ATTACHMENT_MAX_BYTES") or 25 * 1024 * 1024),
        # The largest file an import page takes (views marked ``core.inputs.large_uploads``): a
        # CSV of 100,000 clients with their persons is about 70 MB; imports run as jobs.
        "IMPORT_MAX_BYTES": int(os.environ.get("CRM_IMPORT_MAX_BYTES") or 200 * 1024 * 1024),
        "ATTACHMENT_GRACE_SECONDS": int(os.environ.get("CRM_ATTACHMENT_GRACE_SECONDS") or 3600),
        # Background jobs (core/jobs): the queue (a SQLite file next to the database by default,
        # redis://… for workers on several hosts) and its name (a key prefix on Redis).
        "JOBS_URL": os.environ.get("CRM_JOBS_URL") or f"sqlite:///{folder / 'jobs.sqlite3'}",
        "JOBS_QUEUE": os.environ.get("CRM_JOBS_QUEUE") or "crm",
        # A running job says it is alive this often; one silent for JOBS_STALE_SECONDS lost its
        # worker and is started again (or failed after its attempts).
        "JOBS_HEARTBEAT_SECONDS": float(os.environ.get("CRM_JOBS_HEARTBEAT_SECONDS") or 5),
        "JOBS_STALE_SECONDS": float(os.environ.get("CRM_JOBS_STALE_SECONDS") or 60),
        # The first retry of a failed attempt waits this long, each next one twice as long.
        "JOBS_RETRY_SECONDS": float(os.environ.get("CRM_JOBS_RETRY_SECONDS") or 10),
        "JOBS_TICK_SECONDS": float(os.environ.get("CRM_JOBS_TICK_SECONDS") or 15),
        # Ended jobs (with their uploaded files and results) are forgotten after this many days.
        "JOBS_KEEP_DAYS": int(os.environ.get("CRM_JOBS_KEEP_DAYS") or 30),
    }
    settings.update(overrides)
    # The largest request body: refused on its Content-Length before a byte is read (and a body
    # without one is cut there). Room for the largest attachment plus the form around it.
    settings.setdefault(
        "MAX_CONTENT_LENGTH",
        int(os.environ.get("CRM_MAX_REQUEST_BYTES") or 0)
        or max(settings["ATTACHMENT_MAX_BYTES"], 20 * 1024 * 1024) + 1024 * 1024,
    )
    return settings
