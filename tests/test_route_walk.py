"""The cross-representative route walk: as a representative, every route and API operation of the
URL map (every module installed, demo data loaded) is requested with the ids of records she may not
see (another representative's clients and what belongs to them), and no answer may show one.

Generated from the URL map and the model registry, so a new route or a new model is walked without
touching this file:

- the records "of another representative" are Peter's clients and every row of every table that
  belongs to one of them through a chain of foreign keys (whatever its model declares: that is what
  is tested), plus whatever else the record rules hide from Maria, plus attachments of those
  records and a notification of Peter's;
- each of them gets a marker (``zqh<table>x<id>``) appended to its text columns, so that a page or
  a JSON answer showing one can be recognised whatever it shows of it;
- a URL parameter ``<x_id>`` receives a hidden record of a table named ``..._x`` (``client_id`` a
  client, ``account_id`` a bank account...); ``<model>/<record_id>`` every registered model; pages
  without parameters are asked again with ``?client_id=``, ``?person_id=``... of hidden records;
- writes (POST, PUT, PATCH, DELETE) are sent too, with an empty body: afterwards the hidden records
  must be exactly as they were.

A leak is any answer below 500 whose body (HTML, JSON, CSV, or the text of an XLSX) carries a
marker, or any change to a hidden record. The walk also runs a few requests as the manager, who
may see everything, to prove that the markers are found when they are shown.
"""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import String, cast, func, inspect, select, update

from core.attachments import attach
from core.core_hooks import DEMO_PASSWORD
from core.db import Base, db_session
from core.models import Attachment, Notification, User
from core.notifications import notify
from core.plugins import call_one
from core.record_rules import RuleUser, activate
from core.state import current_state
from core.testing import logged_in

MARK = "zqh"
MARKED = re.compile(MARK + r"\d+x\d+[fn]?")
# Text columns that may carry a marker: free text, never codes the application interprets.
TEXT_COLUMNS = {
    "name", "title", "subject", "number", "street", "city", "bank_name", "notes", "description",
    "outcome", "position", "department", "address", "comment", "reason", "body", "summary",
}  # fmt: skip
SKIPPED_ENDPOINTS = {"auth.login", "auth.logout", "static"}
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

ROOT = Path(__file__).resolve().parents[1]


def _seed(app) -> None:
    """The demo data of every installed module, as ``crm demo`` writes it."""
    with app.app_context():
        state = current_state()
        for module in ("core", *state.installed):
            call_one(state.pm, "crm_demo_data", module, session=db_session, scale=1)
            db_session.commit()


def _single_key(table):
    keys = list(table.primary_key.columns)
    return keys[0] if len(keys) == 1 else None


def _hidden_rows(app, login: str, other: str) -> dict[str, list[Any]]:
    """Per table, the primary keys of the rows ``login`` must not see: those the record rules hide
    from her (every registered model), and every row that belongs, through a chain of foreign keys,
    to a client of ``other``'s, whether or not its model says so (that is what is tested)."""
    hidden: dict[str, set[Any]] = defaultdict(set)
    with app.test_request_context("/"):
        user = db_session.scalar(select(User).where(User.login == login))
        activate(
            current_state().enabled_record_rules,
            RuleUser(user.id, frozenset(g.code for g in user.groups)),
        )
        for info in current_state().models:
            mapper = inspect(info.model)
            if len(mapper.primary_key) != 1:
                continue
            key = mapper.get_property_by_column(mapper.primary_key[0]).class_attribute
            every = set(db_session.scalars(select(key).execution_options(crm_all_records=True)))
            hidden[info.name] |= every - set(db_session.scalars(select(key)))
    with app.app_context():
        clients = Base.metadata.tables["crm_contacts_client"]
        owner = db_session.scalar(select(User.id).where(User.login == other))
        hidden["crm_contacts_client"] |= set(
            db_session.scalars(select(clients.c.id).where(clients.c.responsible_id == owner))
        )
        existing = set(inspect(db_session.get_bind()).get_table_names())
        grown = True
        while grown:  # follow the foreign keys until nothing more belongs to those clients
            grown = False
            for table in Base.metadata.tables.values():
                key = _single_key(table)
                if key is None or table.name == "core_user" or table.name not in existing:
                    continue
                for fk in table.foreign_keys:
                    parents = hidden.get(fk.column.table.name)
                    if not parents or fk.column.table is table:
                        continue
                    rows = set(
                        db_session.scalars(select(key).where(fk.parent.in_(sorted(parents))))
                    )
                    if rows - hidden[table.name]:
                        hidden[table.name] |= rows
                        grown = True
    return {name: sorted(ids) for name, ids in hidden.items() if ids}


def _mark(app, hidden: dict[str, list[Any]], other_login: str) -> dict[str, str]:
    """Append a marker (``zqh<table>x<id>``) to the text columns of every hidden row, attach a
    marked file to a few of each registered model, and give the other representative a marked
    notification; ``{marker: what it marks}``."""
    markers: dict[str, str] = {}
    tables = sorted(hidden)
    with app.app_context():
        state = current_state()
        for number, name in enumerate(tables):
            table = Base.metadata.tables[name]
            key = _single_key(table)
            texts = [
                c for c in table.columns
                if c.name in TEXT_COLUMNS and isinstance(c.type, String) and not c.primary_key
                and (c.type.length or 10**6) >= 40
            ]  # fmt: skip
            prefix = f" {MARK}{number}x"
            for record_id in hidden[name]:
                markers[f"{MARK}{number}x{record_id}"] = f"{name} #{record_id}"
            if texts:
                db_session.execute(
                    update(table)
                    .where(key.in_(hidden[name]))
                    .values({
                        c.name: func.substr(func.coalesce(c, ""), 1, (c.type.length or 10**6) - 20)
                        + prefix
                        + cast(key, String)
                        for c in texts
                    })
                )  # fmt: skip
            if name in state.models:
                model = state.models.get(name).model
                for record_id in hidden[name][:2]:
                    marker = f"{MARK}{number}x{record_id}f"
                    markers[marker] = f"attachment of {name} #{record_id}"
                    attach(db_session, db_session.get(model, record_id), b"x", name=f"{marker}.txt")
        other = db_session.scalar(select(User).where(User.login == other_login))
        note = notify(db_session, other.id, f"Your client needs you {MARK}999x0n", "/contacts/")
        db_session.flush()
        markers[f"{MARK}999x0n"] = f"notification #{note.id} of {other_login}"
        db_session.commit()
    return markers


def _snapshot(app, hidden: dict[str, list[Any]]) -> dict[tuple[str, Any], tuple]:
    """Every column of every hidden row, and the attachments of hidden records."""
    rows: dict[tuple[str, Any], tuple] = {}
    with app.app_context():
        for name, ids in hidden.items():
            table = Base.metadata.tables[name]
            for row in db_session.execute(select(table).where(_single_key(table).in_(ids))):
                rows[name, row[0]] = tuple(row)
            attached = db_session.execute(
                select(Attachment.__table__).where(
                    Attachment.model == name, Attachment.record_id.in_([str(i) for i in ids])
                )
            )
            for row in attached:
                rows["core_attachment", row[0]] = tuple(row)
    return rows


def _tables_by_stem() -> dict[str, list[str]]:
    """``{"client": ["crm_contacts_client"], "account": ["crm_contacts_bank_account"], ...}``"""
    stems: dict[str, list[str]] = defaultdict(list)
    for table in Base.metadata.tables:
        parts = table.split("_")
        for i in range(1, len(parts)):
            stems["_".join(parts[i:])].append(table)
    return stems


def _hidden_attachments(app, hidden) -> dict[str, list[int]]:
    with app.app_context():
        rows = db_session.execute(select(Attachment.id, Attachment.model, Attachment.record_id))
        found: dict[str, list[int]] = defaultdict(list)
        for attachment_id, model, record_id in rows:
            if model in hidden and record_id in {str(i) for i in hidden[model]}:
                found[model].append(attachment_id)
        return found


def _records_for(argument: str, hidden, stems) -> list[tuple[str, Any]]:
    """Hidden ``(table, id)`` for a URL argument named ``argument`` (``client_id``...)."""
    if not argument.endswith("_id"):
        return []
    found = []
    for table in stems.get(argument[: -len("_id")], []):
        for record_id in hidden.get(table, [])[:1]:
            found.append((table, record_id))
    return found


def _urls(app, hidden, attachments, notifications) -> list[tuple[str, str, str]]:
    """``(method, url, endpoint)`` for every rule of the URL map, arguments filled with hidden
    records (every combination that names one)."""
    stems = _tables_by_stem()
    hidden = {
        **hidden,
        "core_attachment": [a for ids in attachments.values() for a in ids[:1]],
        "core_notification": notifications[:1],
    }
    hidden = {table: ids for table, ids in hidden.items() if ids}
    query_args = sorted(
        {f"{stem}_id" for stem, tables in stems.items() for t in tables if t in hidden}
        & {"client_id", "person_id", "contact_id", "contract_id", "document_id", "task_id",
           "rule_id", "condition_id", "payment_id", "transition_id"}
    )  # fmt: skip
    requests: list[tuple[str, str, str]] = []
    with app.test_request_context("/"):
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if rule.endpoint in SKIPPED_ENDPOINTS or rule.endpoint.endswith(".static"):
                continue
            methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
            choices: list[dict[str, Any]] = [{}]
            for argument in sorted(rule.arguments):
                converter = rule._converters[argument]  # noqa: SLF001 - the rule's own converters
                options: list[Any]
                if argument == "model":
                    options = sorted(hidden)
                elif argument == "record_id":
                    options = ["(record)"]
                elif hasattr(converter, "items"):
                    options = list(converter.items)  # any(csv, xlsx, pdf)
                else:
                    records = _records_for(argument, hidden, stems)
                    options = [record_id for _table, record_id in records] or [1]
                choices = [{**c, argument: o} for c in choices for o in options]
            for values in choices:
                if "model" in values:
                    model = values["model"]
                    if model not in hidden or model == "core_attachment":
                        continue
                    values["record_id"] = hidden[model][0]
                url = url_for(rule.endpoint, **values)
                for method in methods:
                    requests.append((method, url, rule.endpoint))
                if not rule.arguments and "GET" in methods:
                    # One request with every argument: a page reads those it knows.
                    query = "&".join(
                        f"{argument}={record_id}"
                        for argument in query_args
                        for _table, record_id in _records_for(argument, hidden, stems)[:1]
                    )
                    requests.append(("GET", f"{url}?{query}", rule.endpoint))
    return requests


def _text_of(response) -> str:
    data = response.get_data()
    kind = response.mimetype or ""
    if kind == "application/json":
        try:
            return json.dumps(json.loads(data), ensure_ascii=False)
        except ValueError:
            return data.decode("utf-8", "replace")
    if data[:2] == b"PK":  # XLSX and other zipped office files: their XML parts
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return " ".join(
                    archive.read(n).decode("utf-8", "replace")
                    for n in archive.namelist()
                    if n.endswith(".xml")
                )
        except zipfile.BadZipFile:
            pass
    return data.decode("utf-8", "replace")


def _send(client, method: str, url: str):
    if method == "GET":
        return client.get(url)
    if url.startswith("/api/"):
        return client.open(url, method=method, json={})
    # A file too, for the routes that take one (attachments): others ignore it.
    return client.open(url, method=method, data={"file": (io.BytesIO(b"walk"), "walk.txt")})


@pytest.fixture
def walked_app(crm_app_factory, crm_plugins):
    # Every module of this repository (the test suite's fixture plugins are not modules).
    modules = sorted(
        name
        for name, plugin in crm_plugins.items()
        if not plugin.broken
        and Path(plugin.module.__file__).resolve().is_relative_to(ROOT / "plugins")
    )
    app = crm_app_factory(modules)
    _seed(app)
    return app


def test_a_representative_sees_no_record_of_another_representatives_client_on_any_route(
    walked_app,
):
    app = walked_app
    started = time.monotonic()
    hidden = _hidden_rows(app, "maria", "peter")
    # The demo gives Peter clients, and everything the modules store for them.
    assert "crm_contacts_client" in hidden and "crm_contacts_person" in hidden
    markers = _mark(app, hidden, "peter")
    before = _snapshot(app, hidden)
    attachments = _hidden_attachments(app, hidden)
    with app.app_context():
        peter = db_session.scalar(select(User.id).where(User.login == "peter"))
        notifications = list(
            db_session.scalars(select(Notification.id).where(Notification.user_id == peter))
        )
    requests = _urls(app, hidden, attachments, notifications)

    # The detector finds markers where they are shown: the manager sees Peter's client.
    georgi = logged_in(app, "georgi", DEMO_PASSWORD)
    client_id = hidden["crm_contacts_client"][0]
    assert MARKED.search(_text_of(georgi.get(f"/contacts/clients/{client_id}")))

    maria = logged_in(app, "maria", DEMO_PASSWORD)
    leaks: dict[str, set[str]] = defaultdict(set)
    errors: list[str] = []
    statuses: dict[int, int] = defaultdict(int)
    for method, url, endpoint in requests:
        response = _send(maria, method, url)
        statuses[response.status_code] += 1
        if response.status_code >= 500:
            errors.append(f"{method} {url} -> {response.status_code}")
            continue
        for marker in set(MARKED.findall(_text_of(response))):
            if marker in markers:
                leaks[f"{method} {url} ({endpoint}) -> {response.status_code}"].add(markers[marker])
    # Maria is still herself: no request logged her out or changed who she is.
    assert maria.get("/api/v1/clients").status_code == 200

    after = _snapshot(app, hidden)
    changed = sorted(
        f"{key[0]} #{key[1]}"
        for key in before.keys() | after.keys()
        if before.get(key) != after.get(key)
    )
    elapsed = time.monotonic() - started
    rules = {endpoint for _m, _u, endpoint in requests}
    print(
        f"\nroute walk: {len(rules)} routes, {len(requests)} requests, "
        f"{sum(len(v) for v in hidden.values())} hidden records in {len(hidden)} tables, "
        f"{len(leaks)} leaking requests, {len(changed)} hidden records changed, "
        f"{len(errors)} server errors, {elapsed:.1f} s; statuses {dict(sorted(statuses.items()))}"
    )
    report = [f"{request}: {sorted(what)[:3]}" for request, what in sorted(leaks.items())]
    print("\n".join(report + changed[:20] + errors[:20]))
    assert not report, "records of another representative's clients shown:\n" + "\n".join(report)
    assert not changed, "records of another representative's clients changed:\n" + "\n".join(
        changed
    )
