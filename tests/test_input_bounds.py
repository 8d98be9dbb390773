"""Integers, amounts, dates, texts and JSON at the extremes: refused with a 4xx naming the field
(or a 404 for an id no record can have), never a 500, and nothing written. Through the shared
converters, readers and schemas of core/inputs.py and core/schemas.py, so the checks below walk
every URL converter of every module's routes and every field type a schema can use."""

from __future__ import annotations

import inspect
import io
import json
import re
import sys
from datetime import date

import marshmallow
import pytest
from marshmallow import ValidationError, fields
from sqlalchemy import func, select
from werkzeug.routing import IntegerConverter

from core import schemas
from core.db import db_session
from core.models import User
from core.testing import logged_in, make_user

HUGE_IDS = (2**31, 2**63, 10**30, int("9" * 400))
MODULES = ["crm_contacts", "crm_tasks", "crm_contracts", "crm_sales", "crm_pricing"]


@pytest.fixture
def app(crm_app_factory):
    app = crm_app_factory(MODULES)
    make_user(app, "root", groups=("admin",))
    return app


@pytest.fixture
def root(app):
    return logged_in(app, "root")


def _clients(app) -> int:
    from crm_contacts.models import Client

    with app.app_context():
        return db_session.scalar(select(func.count()).select_from(Client))


# --- URL converters: every <int:...> of every route ---------------------------------------------


def test_every_int_converter_answers_404_to_an_id_past_an_integer_key(app, root):
    rules = [
        rule
        for rule in app.url_map.iter_rules()
        if any(isinstance(c, IntegerConverter) for c in rule._converters.values())
    ]
    assert len(rules) > 90
    for rule in rules:
        for huge in HUGE_IDS:
            values = {
                name: huge if isinstance(converter, IntegerConverter) else "csv"
                for name, converter in rule._converters.items()
            }
            url = _url(rule, values)
            for method in sorted((rule.methods or set()) & {"GET", "POST", "DELETE", "PATCH"}):
                answer = root.open(url, method=method)
                # 405: a sibling rule of the same path takes other methods only.
                assert answer.status_code in (404, 405), (
                    f"{method} {url[:80]}: {answer.status_code}"
                )
    largest = root.get(f"/contacts/clients/{2**31 - 1}")
    assert largest.status_code == 404


def _url(rule, values: dict) -> str:
    """The rule's path with ``values`` written in by hand: url_for would refuse them."""

    def fill(match: re.Match) -> str:
        name = match.group(1)
        return str(values.get(name, "csv"))

    return re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-zA-Z_][a-zA-Z0-9_]*)>", fill, rule.rule)


# --- query strings and forms ------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/clients?customer_group_id=99999999999999999999",
        "/api/v1/clients?page=99999999999999999999",
        "/api/v1/contacts?from=0001-01-01&to=9999-12-31",
        "/api/v1/sales/turnover?start=0001-01-01&end=9999-12-31",
        "/api/v1/sales/turnover?customer_group_id=18446744073709551616",
        "/api/v1/contracts?expiring_within=99999999999999999999",
        "/api/v1/tasks?due_before=9999-12-31",
        "/api/v1/sales/documents?client_id=1e19",
        "/contacts/clients?page=99999999999999999999",
        "/sales/documents?page=99999999999999999999&client=99999999999999999999",
        "/pricing/simulator?client_id=abc&product_code=X&quantity=1e999",
        "/pricing/simulator?client_id=99999999999999999999&product_code=X&quantity=NaN",
        "/tasks/?page=99999999999999999999",
        "/contacts/clients?q=%00",
    ],
)
def test_extreme_query_strings_are_refused_or_ignored_never_a_500(root, url):
    answer = root.get(url)
    assert answer.status_code < 500, (url, answer.status_code)
    if url.startswith("/api/") and answer.status_code == 400:
        assert answer.get_json()["errors"], url


def test_a_nul_byte_in_a_query_or_form_is_a_400_naming_it(root, app):
    answer = root.get("/api/v1/clients?q=a%00b")
    assert answer.status_code == 400 and "q" in answer.get_json()["errors"]
    form = root.post("/contacts/clients/new", data={"name": "Bio\x00prom"})
    assert form.status_code == 400 and "name" in form.text
    assert _clients(app) == 0


@pytest.mark.parametrize("day", ["2026-02-30", "0001-01-01", "9999-12-31", "2026-13-01"])
def test_impossible_dates_on_the_task_form_are_a_message(root, app, day):
    page = root.post("/tasks/new", data={"title": "Call", "due_date": day, "priority": "normal"})
    assert page.status_code == 400
    assert "Not a valid date" in page.text or "Must be between 1900-01-01" in page.text


# --- JSON bodies ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "\ud800"}, "name"),
        ({"name": "Bio\x00prom"}, "name"),
        ({"name": "x" * 20_000}, "name"),
        ({"name": "Bioprom", "payment_term_days": 2**64}, "payment_term_days"),
        ({"name": "Bioprom", "payment_term_days": 1e19}, "payment_term_days"),
        ({"name": "Bioprom", "payment_term_days": float("inf")}, "payment_term_days"),
        ({"name": "Bioprom", "version": float("inf")}, "version"),
        ({"name": "Bioprom", "addresses": [{"city": "So\x00fia"}]}, "addresses.0.city"),
    ],
)
def test_extreme_json_values_are_400s_naming_the_field_and_write_nothing(root, app, body, field):
    raw = json.dumps(body, allow_nan=True)  # inf as the probe sent it: 1e999 parses to inf
    raw = raw.replace("Infinity", "1e999")
    answer = root.post("/api/v1/clients", data=raw, content_type="application/json")
    assert answer.status_code == 400, answer.status_code
    errors = answer.get_json()["errors"]
    assert field in errors or field.split(".")[0] in errors, errors
    assert _clients(app) == 0


def test_json_nested_five_thousand_deep_is_a_400(root):
    raw = '{"name": ' + "[" * 5000 + "]" * 5000 + "}"
    answer = root.post("/api/v1/clients", data=raw, content_type="application/json")
    assert answer.status_code == 400
    assert "deep" in str(answer.get_json()["errors"])


@pytest.mark.parametrize("amount", ["1e19", "1e999", "NaN", "-1e19"])
def test_extreme_amounts_are_400s(root, amount):
    raw = (
        '{"client_id": 1, "product_code": "X", "quantity": ' + amount.replace("NaN", '"NaN"') + "}"
    )
    answer = root.post("/api/v1/pricing/quote", data=raw, content_type="application/json")
    assert answer.status_code == 400, (amount, answer.status_code)


@pytest.mark.parametrize(
    "moment",
    ["0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59"],
)
def test_extreme_datetimes_and_offsets_are_400s(root, app, moment):
    client = root.post("/api/v1/clients", json={"name": "Bioprom"}).get_json()["id"]
    answer = root.post(
        "/api/v1/contacts",
        json={"client_id": client, "contact_type_id": 1, "starts_at": moment, "subject": "x"},
    )
    assert answer.status_code == 400 and "starts_at" in answer.get_json()["errors"], moment


# --- every field type of the base schema --------------------------------------------------------


class Everything(schemas.Schema):
    whole = fields.Integer()
    amount = fields.Decimal()
    ratio = fields.Float()
    day = fields.Date()
    moment = fields.AwareDateTime()
    naive = fields.DateTime()
    text = fields.String()
    email = fields.Email()
    words = fields.List(fields.String())
    numbers = fields.Dict(keys=fields.String(), values=fields.Integer())
    pair = fields.Tuple((fields.Integer(), fields.Date()))


EXTREMES = {
    "whole": [2**31, -(2**31) - 1, 2**63, 1e19, float("inf"), float("nan")],
    "amount": [1e19, "1e999", "NaN", "-Infinity", 10**10],
    "ratio": [float("inf"), float("nan"), 1e300],
    "day": ["0001-01-01", "9999-12-31", "2026-02-30"],
    "moment": ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59"],
    "naive": ["9999-12-31T23:59:59", "0001-01-01T00:00:00"],
    "text": ["a\x00b", "\ud800", "x" * 10_001],
    "email": ["a\x00@b.example"],
    "words": [["ok", "a\x00b"], ["\udfff"]],
    "numbers": [{"a": 2**64}],
    "pair": [[2**64, "2026-01-01"], [1, "9999-12-31"]],
}


@pytest.mark.parametrize(
    ("name", "value"), [(name, value) for name, values in EXTREMES.items() for value in values]
)
def test_the_base_schema_bounds_every_field_type(name, value):
    with pytest.raises(ValidationError) as refused:
        Everything().load({name: value})
    assert name in refused.value.messages


def test_the_base_schema_keeps_ordinary_values():
    loaded = Everything().load(
        {"whole": 2**31 - 1, "amount": "9999999999.99", "day": "2999-12-31", "text": "Плодив"}
    )
    assert loaded["day"] == date(2999, 12, 31) and loaded["whole"] == 2**31 - 1


def test_every_schema_of_the_core_and_the_modules_derives_from_the_base(app):
    """A schema that derives from marshmallow's directly would miss the bounds."""
    offenders = []
    for module in list(sys.modules.values()):
        name = getattr(module, "__name__", "")
        if not (name.startswith("core") or name.startswith("crm_")):
            continue
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, marshmallow.Schema)
                and cls.__module__ == name
                and not issubclass(cls, schemas.Schema)
                and cls is not schemas.Schema
            ):
                offenders.append(f"{name}.{cls.__name__}")
    assert not offenders


# --- the last net: what a session flushes -------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value"), [("login", "x" * 101), ("name", "a\x00b"), ("login", "\ud800")]
)
def test_the_session_refuses_a_value_its_column_cannot_hold(app, column, value):
    with app.app_context():
        user = db_session.scalars(select(User)).first()
        setattr(user, column, value)
        with pytest.raises(ValidationError) as refused:
            db_session.flush()
        assert column in refused.value.messages
        db_session.rollback()


# --- request size -------------------------------------------------------------------------------


class _Unreadable(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def readable(self) -> bool:
        return True

    def readinto(self, _buffer) -> int:
        raise AssertionError("the body was read before it was refused")

    def seekable(self) -> bool:
        return True  # the test client rewinds the stream before it sends it

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0


@pytest.mark.parametrize("who", ["anonymous", "root"])
def test_a_500_mb_body_is_refused_on_its_content_length_before_it_is_read(app, who):
    http = app.test_client() if who == "anonymous" else logged_in(app, "root")
    for path in ("/login", "/contacts/import", "/api/v1/clients"):
        answer = http.post(
            path,
            input_stream=_Unreadable(),
            content_type="multipart/form-data; boundary=x",
            environ_overrides={"CONTENT_LENGTH": str(500 * 1024 * 1024)},
        )
        assert answer.status_code == 413, (path, answer.status_code)
        assert "MB this site accepts" in answer.get_data(as_text=True)
