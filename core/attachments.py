"""Attachments: files of any format attached to a record of any registered model.

Plugins use four functions and one template macro (documented in ``docs/plugins.md``):

- ``attach(session, record, file, user)`` stores an uploaded file and adds its ``Attachment`` row
  to ``session`` (the caller commits); a file that is empty or above ``ATTACHMENT_MAX_BYTES``
  raises ``AttachmentError`` with a message for the user, and nothing is written;
- ``attachments_of(session, record)`` lists a record's attachments (one query);
- ``detach(session, attachment)`` deletes the row; the file stays until the clean-up;
- ``{% from "core/_attachments.html" import attachments %}{{ attachments(items, record) }}``
  shows the list with download links, an upload form and delete links.

Storage. Files are stored under ``CRM_ATTACHMENTS_URL`` (an fsspec URL: a local folder, the
default being ``<instance>/attachments``; ``s3://bucket/crm`` and the like in a cluster) by the
SHA-256 of their content: ``<root>/ab/cd/abcd…``. The same content uploaded twice is stored once.
The name the user gave is kept for display and as the download's file name, never used as a path.

Deleting. A transaction may roll back, files are not transactional: so nothing deletes a file
while the row that references it could come back. Deleting an attachment (or its record: an ORM
delete of a record deletes its attachment rows in the same flush) only deletes rows. ``crm
attachments gc`` (cron) deletes the files no row references any more, in two steps: a file found
unreferenced is noted with the time, and deleted by a later run only if it is still unreferenced
after the grace period (``ATTACHMENT_GRACE_SECONDS``, one hour), so a file written for a row whose
transaction has not committed yet is never collected.

Access. A download (``/attachments/<id>``) is allowed to users holding the read permission of the
module that owns the record's model (``<module>.read``) who can load the record through the
request's session, so record rules apply: a record they may not see answers 403. Uploading and
deleting ask for ``<module>.write`` the same way.
"""

from __future__ import annotations

import functools
import hashlib
import io
import mimetypes
import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import IO, Any

import fsspec
from flask import current_app
from sqlalchemy import String, cast, delete, event, exists, func, inspect, select
from sqlalchemy.orm import Session, joinedload, sessionmaker

from core.models import Attachment, AttachmentOrphan, utcnow

CHUNK = 1024 * 1024
_HASH = re.compile(r"[0-9a-f]{64}")
_CONTENT_TYPE = re.compile(r"[a-zA-Z0-9.+-]+/[a-zA-Z0-9.+-]+")
DEFAULT_MAX_BYTES = 25 * 1024 * 1024


class AttachmentError(ValueError):
    """A file that cannot be attached; ``str(error)`` is the message for the user."""

    field = "file"


@dataclass(frozen=True)
class GcReport:
    """What one clean-up did."""

    rows_of_deleted_records: int = 0
    files_noted: int = 0
    files_deleted: int = 0
    files_kept: int = 0


# --- storage ---------------------------------------------------------------------------------


@functools.cache
def _filesystem(url: str) -> tuple[fsspec.AbstractFileSystem, str]:
    fs, root = fsspec.core.url_to_fs(url)
    return fs, root.rstrip("/")


def storage(url: str | None = None) -> tuple[fsspec.AbstractFileSystem, str]:
    """The file system and root folder of the attachment storage of this application."""
    return _filesystem(url or current_app.config["ATTACHMENTS_URL"])


def blob_path(root: str, sha256: str) -> str:
    return f"{root}/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def _write_blob(data: bytes, sha256: str) -> None:
    fs, root = storage()
    path = blob_path(root, sha256)
    fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
    # Written whole under a temporary name, then moved: a reader never sees half a file. Written
    # again when it exists, in case a clean-up deleted it just before.
    temporary = f"{path}.{uuid.uuid4().hex}.part"
    with fs.open(temporary, "wb") as out:
        out.write(data)
    fs.mv(temporary, path)


def open_file(attachment: Attachment) -> IO[bytes]:
    """The stored content of ``attachment``, opened for reading."""
    fs, root = storage()
    return fs.open(blob_path(root, attachment.sha256), "rb")


def read_bytes(attachment: Attachment) -> bytes:
    with open_file(attachment) as stream:
        return stream.read()


# --- names and types -------------------------------------------------------------------------


def display_name(raw: str | None) -> str:
    """The file name as the user gave it, made harmless: the last part of any path, no control
    characters, at most 255 characters. ``../../etc/passwd`` becomes ``passwd``."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    name = name.lstrip(".").strip() or "file"
    if len(name) > 255:
        stem, dot, suffix = name.rpartition(".")
        name = (stem[: 254 - len(suffix)] + dot + suffix) if dot and len(suffix) < 20 else name
        name = name[:255]
    return name


def content_type_of(name: str, declared: str | None) -> str:
    guessed, _encoding = mimetypes.guess_type(name, strict=False)
    if guessed:
        return guessed
    if declared and _CONTENT_TYPE.fullmatch(declared) and len(declared) <= 150:
        return declared.lower()
    return "application/octet-stream"


def max_bytes() -> int:
    return int(current_app.config.get("ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def human_size(size: int) -> str:
    """``25 MB``, ``1.5 KB``, ``300 bytes``."""
    if size < 1024:
        return f"{size} bytes"
    value = float(size)
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1024 or unit == "GB":
            break
    return f"{value:.1f}".removesuffix(".0") + f" {unit}"


def _read_limited(stream: Any, limit: int) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        total += len(chunk)
        if total > limit:
            raise AttachmentError(
                f"The file is larger than the limit of {human_size(limit)}: nothing was attached."
            )
        parts.append(chunk)
    return b"".join(parts)


# --- records ---------------------------------------------------------------------------------


def record_ref(record: Any) -> tuple[str, str]:
    """``(model registry name, primary key as text)`` of a mapped record."""
    state = inspect(record)
    identity = state.identity
    if identity is None:
        raise ValueError(f"{type(record).__name__} has no primary key yet: flush it first")
    if len(identity) != 1:
        raise ValueError("attachments need a record with a one-column primary key")
    return state.mapper.local_table.name, str(identity[0])


def attach(
    session: Session,
    record: Any,
    file: Any,
    user: Any = None,
    *,
    name: str | None = None,
    content_type: str | None = None,
    max_size: int | None = None,
) -> Attachment:
    """Store ``file`` (a werkzeug ``FileStorage``, a binary stream or ``bytes``) and attach it to
    ``record``. Adds the row to ``session``; the caller commits. Raises ``AttachmentError`` (an
    empty file, one above the size limit) before anything is stored. ``max_size`` replaces the
    uploads' limit for files the system writes (a background job's result)."""
    if inspect(record).identity is None:
        session.flush()
    model, record_id = record_ref(record)
    stream = (
        io.BytesIO(file) if isinstance(file, bytes | bytearray) else getattr(file, "stream", file)
    )
    data = _read_limited(stream, max_size or max_bytes())
    if not data:
        raise AttachmentError("The file is empty: choose a file with content.")
    shown = display_name(name if name is not None else getattr(file, "filename", None))
    sha256 = hashlib.sha256(data).hexdigest()
    # A clean-up may have noted this content as unreferenced: drop the note first (it waits for a
    # clean-up deleting the file right now), then write the file, so it is there when we commit.
    session.execute(delete(AttachmentOrphan).where(AttachmentOrphan.sha256 == sha256))
    _write_blob(data, sha256)
    attachment = Attachment(
        model=model,
        record_id=record_id,
        name=shown,
        content_type=content_type_of(shown, content_type or getattr(file, "mimetype", None)),
        size=len(data),
        sha256=sha256,
        created_by_id=getattr(user, "id", user),
    )
    session.add(attachment)
    session.flush()
    return attachment


def attachments_of(session: Session, record: Any) -> list[Attachment]:
    """The attachments of ``record``, oldest first, with who added them: one query."""
    model, record_id = record_ref(record)
    return list(
        session.scalars(
            select(Attachment)
            .where(Attachment.model == model, Attachment.record_id == record_id)
            .options(joinedload(Attachment.created_by))
            .order_by(Attachment.created_at, Attachment.id)
        )
    )


def attachment_counts(session: Session, model: str, record_ids: list[Any]) -> dict[str, int]:
    """``{record id as text: number of attachments}`` for many records of one model: one query."""
    if not record_ids:
        return {}
    rows = session.execute(
        select(Attachment.record_id, func.count())
        .where(Attachment.model == model, Attachment.record_id.in_([str(r) for r in record_ids]))
        .group_by(Attachment.record_id)
    )
    return {record_id: count for record_id, count in rows}


def detach(session: Session, attachment: Attachment) -> None:
    """Delete the attachment's row. Its file is deleted by the clean-up, once no row references
    it and the transaction that deleted this one can no longer roll back."""
    session.delete(attachment)


# --- deleting records deletes their attachment rows ------------------------------------------


def install_attachment_cleanup(factory: sessionmaker[Session]) -> None:
    """An ORM delete of a record deletes its attachment rows, in the same flush (and the same
    transaction: a rollback brings them back). Deletes by bulk statements or by the database's
    ``ON DELETE CASCADE`` are caught up by ``crm attachments gc``."""

    @event.listens_for(factory, "after_flush")
    def delete_attachment_rows(session: Session, _flush_context) -> None:
        by_model: dict[str, list[str]] = {}
        for obj in session.deleted:
            table = getattr(type(obj), "__table__", None)
            if table is None or table.name.startswith("core_"):
                continue
            identity = inspect(obj).identity
            if identity is not None and len(identity) == 1:
                by_model.setdefault(table.name, []).append(str(identity[0]))
        for model, ids in by_model.items():
            session.connection().execute(
                delete(Attachment).where(Attachment.model == model, Attachment.record_id.in_(ids))
            )


# --- the clean-up ----------------------------------------------------------------------------


def _stored_hashes(fs: fsspec.AbstractFileSystem, root: str) -> list[str]:
    if not fs.exists(root):
        return []
    names = (path.rsplit("/", 1)[-1] for path in fs.find(root))
    return sorted({n for n in names if _HASH.fullmatch(n)})


def collect_garbage(
    session: Session,
    *,
    grace: timedelta,
    registry: Any = None,
    url: str | None = None,
) -> GcReport:
    """Delete rows of records that are gone, then files no row references (see the module's
    docstring). Commits as it goes: run it from ``crm attachments gc``, not inside a request."""
    rows_gone = 0
    for info in registry or ():
        primary = inspect(info.model).primary_key
        if len(primary) != 1:
            continue
        still_there = exists().where(cast(primary[0], String) == Attachment.record_id)
        result = session.execute(
            delete(Attachment)
            .where(Attachment.model == info.name, ~still_there)
            .execution_options(synchronize_session=False)
        )
        rows_gone += result.rowcount or 0
    session.commit()

    fs, root = storage(url)
    stored = _stored_hashes(fs, root)
    referenced: set[str] = set()
    for start in range(0, len(stored), 500):
        batch = stored[start : start + 500]
        referenced.update(
            session.scalars(select(Attachment.sha256).where(Attachment.sha256.in_(batch)))
        )
    noted_at = dict(
        session.execute(select(AttachmentOrphan.sha256, AttachmentOrphan.first_seen_at)).all()
    )
    now = utcnow()
    cutoff = now - grace
    noted = deleted = kept = 0
    for sha256 in stored:
        if sha256 in referenced:
            if sha256 in noted_at:
                session.execute(delete(AttachmentOrphan).where(AttachmentOrphan.sha256 == sha256))
            kept += 1
            continue
        first_seen = noted_at.get(sha256)
        if first_seen is None:
            noted += 1
            if grace > timedelta(0):
                session.add(AttachmentOrphan(sha256=sha256, first_seen_at=now))
                kept += 1
                continue
        elif (first_seen if first_seen.tzinfo else first_seen.replace(tzinfo=UTC)) > cutoff:
            kept += 1
            continue
        if _claim(session, sha256, cutoff, noted=first_seen is not None):
            fs.rm(blob_path(root, sha256))
            deleted += 1
        else:
            kept += 1
        session.commit()
    # Notes of files that are gone by now.
    still_stored = set(stored)
    gone = [sha256 for sha256 in noted_at if sha256 not in still_stored]
    if gone:
        session.execute(delete(AttachmentOrphan).where(AttachmentOrphan.sha256.in_(gone)))
    session.commit()
    return GcReport(rows_gone, noted, deleted, kept)


def _claim(session: Session, sha256: str, cutoff: datetime, *, noted: bool) -> bool:
    """Whether the file may go now. Deleting its note locks the row that ``attach`` deletes
    before it writes the same content again: an upload in progress either finished first (then
    the file is referenced, or the note is gone) or waits until the file is deleted and writes it
    anew."""
    if noted:
        result = session.execute(
            delete(AttachmentOrphan).where(
                AttachmentOrphan.sha256 == sha256, AttachmentOrphan.first_seen_at <= cutoff
            )
        )
        if result.rowcount != 1:
            return False
    return not session.scalar(select(exists().where(Attachment.sha256 == sha256)))
