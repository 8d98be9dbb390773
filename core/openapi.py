"""The OpenAPI document of the installation, built from the routes of the installed modules, their
``@api_doc`` declarations and their marshmallow schemas; it must describe what the API does, so
that a client generator or a fuzzer (the suite runs schemathesis over it) can rely on it:

- path parameters typed by their converter (``<int:id>``: an integer from 0 to its ``max``);
- query parameters typed by name: ``page``/``per_page`` and ``*_id`` integers, dates for
  ``from``/``to``/``start``/``end``/``date``, text otherwise;
- amounts (``fields.Decimal``) a number or a decimal string on the way in, a decimal string on
  the way out (the API writes money as text, to keep it exact); bounds as numbers;
- list answers (``many=True``) as ``{"items": [...], "meta": {...}}``;
- errors as ``{"errors": {field: [message]}}``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import current_app
from marshmallow import fields
from werkzeug.routing import AnyConverter, IntegerConverter

from core.api import API_DOC
from core.inputs import DECIMAL_LIMIT, FIRST_DATE, INT32_MAX, INT64_MAX, LAST_DATE
from core.state import current_state

_CONVERTER = re.compile(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-zA-Z_][a-zA-Z0-9_]*)>")
DECIMAL_TEXT = r"^-?[0-9]{1,10}(\.[0-9]+)?$"
_DATES = {"from", "to", "start", "end", "date", "on", "since", "until"}

ERRORS = {
    "type": "object",
    "properties": {"errors": {"type": "object"}},
    "required": ["errors"],
}


def _output_may_be_null(_converter: Any, field: fields.Field, ret: dict, **_: Any) -> dict:
    """marshmallow writes None as null whatever ``allow_none`` says, which only governs input."""
    return {"nullable": True} if field.dump_only else {}


def _decimal_property(_converter: Any, field: fields.Field, ret: dict, **_: Any) -> dict:
    """A Decimal field: the API reads a number or a decimal string and writes a string."""
    if not isinstance(field, fields.Decimal):
        return {}
    number: dict[str, Any] = {"type": "number"}
    for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        if key in ret:
            number[key] = _plain(ret.pop(key))
    number.setdefault("minimum", -float(DECIMAL_LIMIT))
    number.setdefault("maximum", float(DECIMAL_LIMIT))
    ret.pop("type", None)
    text = {"type": "string", "pattern": DECIMAL_TEXT, "format": "decimal"}
    return {"anyOf": [number, text]}


def _plain(value: Any) -> Any:
    """Bounds as JSON numbers: apispec copies a Decimal ``Range`` as is; JSON writes it as text."""
    if isinstance(value, str):
        try:
            value = Decimal(value)
        except ArithmeticError:
            return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _numbers_as_numbers(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: _plain(value)
            if key.startswith(("minimum", "maximum", "exclusive"))
            else _numbers_as_numbers(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_numbers_as_numbers(item) for item in node]
    return node


def _path_parameter(rule: Any, name: str) -> dict[str, Any]:
    converter = rule._converters.get(name)  # werkzeug keeps no public map of them
    schema: dict[str, Any] = {"type": "string"}
    if isinstance(converter, IntegerConverter):
        schema = {"type": "integer", "minimum": 0, "maximum": converter.max or INT64_MAX}
    elif isinstance(converter, AnyConverter):
        schema = {"type": "string", "enum": sorted(converter.items)}
    return {"in": "path", "name": name, "required": True, "schema": schema}


def _query_parameter(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if name == "page":
        schema = {"type": "integer", "minimum": 1, "maximum": INT32_MAX}
    elif name == "per_page":
        schema = {
            "type": "integer",
            "minimum": 1,
            "maximum": current_app.config["API_MAX_PER_PAGE"],
        }
    elif name.endswith("_id") or name.endswith("_within"):
        schema = {"type": "integer", "minimum": 0, "maximum": INT32_MAX}
    elif name in _DATES:
        schema = {
            "type": "string",
            "format": "date",
            "x-minimum": FIRST_DATE.isoformat(),
            "x-maximum": LAST_DATE.isoformat(),
        }
    return {"in": "query", "name": name, "schema": schema}


def _list_of(item: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"items": {"type": "array", "items": item}, "meta": {"type": "object"}},
        "required": ["items"],
    }


def build_openapi() -> dict[str, Any]:

    state = current_state()
    runtime = current_app.extensions["crm"].runtime
    marshmallow = MarshmallowPlugin()
    spec = APISpec(
        title="CRM API",
        version="1",
        openapi_version="3.0.3",
        plugins=[marshmallow],
        info={"description": "The JSON API of the modules installed in this database."},
    )
    for function in (_decimal_property, _output_may_be_null):
        marshmallow.converter.add_attribute_function(function)  # type: ignore[union-attr]
    errors = {"application/json": {"schema": ERRORS}}
    for rule in sorted(current_app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api/v1/"):
            continue
        top = rule.endpoint.split(".")[0]
        if not state.is_installed(runtime.blueprint_owner.get(top, "core")):
            continue
        doc = getattr(current_app.view_functions[rule.endpoint], API_DOC, None)
        if doc is None:
            continue
        operations = {}
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operation: dict[str, Any] = {"summary": doc["summary"], "responses": {}}
            params = [_path_parameter(rule, name) for name in _CONVERTER.findall(rule.rule)]
            params += [_query_parameter(name) for name in doc["query"]]
            if params:
                operation["parameters"] = params
            if doc["request"] is not None and method in ("POST", "PUT", "PATCH"):
                operation["requestBody"] = {
                    "content": {"application/json": {"schema": doc["request"]}}
                }
            response: dict[str, Any] = {"description": "OK"}
            if doc["response"] is not None:
                item = doc["response"]
                schema: Any = _list_of(item) if doc["many"] else item
                response["content"] = {"application/json": {"schema": schema}}
            operation["responses"]["200"] = response
            for code, text in (
                ("400", "Invalid input: {errors: {field: [message]}}"),
                ("404", "No such record, or not one this user may see"),
            ):
                operation["responses"][code] = {"description": text, "content": errors}
            operations[method.lower()] = operation
        spec.path(path=_CONVERTER.sub(r"{\1}", rule.rule), operations=operations)
    return _numbers_as_numbers(spec.to_dict())
