"""Forms generated from a marshmallow schema, so that nobody types JSON into a textarea.

``schema_form(schema, values, errors, prefix)`` describes one input per field of the schema, the
macro ``schema_fields`` of ``core/_forms.html`` renders them, and ``form_data(schema, form,
prefix)`` reads the posted form back into the dict the schema loads. A partner's schema gets a form
the same way:

- ``Decimal``, ``Integer``, ``Float`` → a number input; ``Date`` → a date input; ``Boolean`` →
  a checkbox; ``String`` → a text input, or a select when it has a ``OneOf`` validator (labels
  from ``metadata={"choices": {value: label}}``);
- a field whose ``metadata`` says ``{"picker": "<registered model>"}`` (``Integer``, or a ``List``
  of ``Integer`` for several) → the searchable picker of that model;
- ``List(Nested(S))`` → a table of S's fields with add/remove row buttons; ``Nested(S)`` → a group;
- anything else → a JSON text field for that one field.

``metadata`` may also give ``label``, ``description`` (help text) and ``unit`` ("%", "days").
Error messages come back per input: ``errors_by_name(messages, prefix)`` maps marshmallow's nested
messages to input names (``params.tiers.1.threshold``), and ``error_lines`` words them for a summary
("Tiers, row 2, threshold: Not a valid number.").
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema, fields, missing, validate

ROW = "__index__"


@dataclass
class FormField:
    name: str  # the input's name, prefix included
    label: str
    widget: str  # text, number, date, checkbox, select, picker, table, group, json
    required: bool = False
    help: str = ""
    unit: str = ""
    choices: list[tuple[str, str]] = field(default_factory=list)
    model: str = ""  # picker: the registered model
    multiple: bool = False
    step: str = ""
    value: Any = None
    errors: list[str] = field(default_factory=list)
    columns: list[FormField] = field(default_factory=list)  # table: one row's fields, empty
    rows: list[list[FormField]] = field(default_factory=list)  # table: the rows with values
    children: list[FormField] = field(default_factory=list)  # group

    @property
    def id(self) -> str:
        return "f-" + "".join(c if c.isalnum() else "-" for c in self.name)


def _label(name: str, f: fields.Field) -> str:
    return f.metadata.get("label") or name.replace("_", " ").strip().capitalize()


def _one_of(f: fields.Field) -> validate.OneOf | None:
    validators = f.validators if isinstance(f.validators, list | tuple) else [f.validators]
    return next((v for v in validators if isinstance(v, validate.OneOf)), None)


def _nested_schema(f: fields.Field) -> Schema | None:
    if isinstance(f, fields.Nested):
        schema = f.schema
        return schema if isinstance(schema, Schema) else None
    return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "y" if value else ""
    return str(value)


def _describe(
    name: str, f: fields.Field, value: Any, errors: Any, full: str, values_known: bool
) -> FormField:
    common = {
        "name": full,
        "label": _label(name, f),
        "required": f.required,
        "help": f.metadata.get("description", ""),
        "unit": f.metadata.get("unit", ""),
    }
    own_errors = errors if isinstance(errors, list) else []
    picker = f.metadata.get("picker")
    if isinstance(f, fields.List):
        inner = f.inner
        nested = _nested_schema(inner)
        if picker or inner.metadata.get("picker"):
            values = [_text(v) for v in (value or [])]
            return FormField(
                widget="picker",
                model=picker or inner.metadata["picker"],
                multiple=True,
                value=values,
                errors=_flat(errors),
                **common,
            )
        if nested is not None:
            rows_errors = errors if isinstance(errors, dict) else {}
            items = list(value or [])
            rows = [
                _fields(nested, item or {}, rows_errors.get(i, {}), f"{full}.{i}.", True)
                for i, item in enumerate(items)
            ]
            # One empty row to fill in, also without JavaScript (empty rows are not read).
            rows.append(_fields(nested, {}, {}, f"{full}.{len(items)}.", False))
            return FormField(
                widget="table",
                columns=_fields(nested, {}, {}, f"{full}.{ROW}.", False),
                rows=rows,
                errors=own_errors,
                **common,
            )
        if nested is None:
            text = ", ".join(_text(v) for v in (value or []))
            common["help"] = common["help"] or "Separate the values with commas."
            return FormField(widget="text", value=text, errors=_flat(errors), **common)
    if picker:
        return FormField(
            widget="picker", model=picker, value=_text(value), errors=own_errors, **common
        )
    nested = _nested_schema(f)
    if nested is not None:
        children = _fields(
            nested,
            value or {},
            errors if isinstance(errors, dict) else {},
            full + ".",
            values_known,
        )
        return FormField(widget="group", children=children, errors=own_errors, **common)
    one_of = _one_of(f)
    if one_of is not None:
        labels = f.metadata.get("choices", {})
        choices = [
            (str(c), labels.get(c) or str(c).replace("_", " ").capitalize()) for c in one_of.choices
        ]
        shown = value if value is not None else f.load_default
        default = "" if callable(shown) or shown is None or shown is missing else shown
        return FormField(
            widget="select", choices=choices, value=_text(default), errors=own_errors, **common
        )
    if isinstance(f, fields.Boolean):
        return FormField(widget="checkbox", value=bool(value), errors=own_errors, **common)
    if isinstance(f, fields.Date):
        return FormField(widget="date", value=_text(value), errors=own_errors, **common)
    if isinstance(f, fields.Integer):
        return FormField(widget="number", step="1", value=_text(value), errors=own_errors, **common)
    if isinstance(f, fields.Decimal | fields.Float):
        return FormField(
            widget="number", step="any", value=_text(value), errors=own_errors, **common
        )
    if isinstance(f, fields.String):
        return FormField(widget="text", value=_text(value), errors=own_errors, **common)
    text = value if isinstance(value, str) else (json.dumps(value) if value is not None else "")
    return FormField(widget="json", value=text, errors=_flat(errors), **common)


def _flat(errors: Any) -> list[str]:
    if isinstance(errors, dict):
        return [m for v in errors.values() for m in _flat(v)]
    if isinstance(errors, list):
        return (
            [m for v in errors for m in _flat(v)]
            if not all(isinstance(m, str) for m in errors)
            else errors
        )
    return [str(errors)] if errors else []


def _fields(
    schema: Schema, values: dict, errors: dict, prefix: str, known: bool
) -> list[FormField]:
    return [
        _describe(
            f.data_key or name,
            f,
            values.get(f.data_key or name),
            errors.get(f.data_key or name),
            prefix + (f.data_key or name),
            known,
        )
        for name, f in schema.fields.items()
        if not f.dump_only
    ]


def schema_form(
    schema: Schema | type[Schema],
    values: dict[str, Any] | None = None,
    errors: dict[str, Any] | None = None,
    prefix: str = "",
) -> list[FormField]:
    """The inputs of ``schema``, filled with ``values`` (stored data, or what ``form_data`` read
    from a post) and marshmallow's ``errors`` of that data; input names start with ``prefix``."""
    instance = schema() if isinstance(schema, type) else schema
    return _fields(instance, values or {}, errors or {}, prefix, values is not None)


def _read(
    f: fields.Field, form: Any, full: str, errors: dict[str, Any], key: str
) -> tuple[bool, Any]:
    """``(present, value)`` of one field in the posted ``form``: empty inputs are absent, so the
    schema's defaults and "missing data" messages apply."""
    if isinstance(f, fields.List):
        inner = f.inner
        nested = _nested_schema(inner)
        if nested is None:
            picked = f.metadata.get("picker") or inner.metadata.get("picker")
            raw_values = form.getlist(full) if picked else (form.get(full) or "").split(",")
            values = [v.strip() for v in raw_values if v.strip()]
            if isinstance(inner, fields.Integer):
                return True, [int(v) if v.isdigit() else v for v in values]
            return True, values
        indices = sorted(
            {
                int(head)
                for k in form
                if k.startswith(full + ".")
                and (head := k[len(full) + 1 :].split(".", 1)[0]).isdigit()
            }
        )
        rows = [row for i in indices if (row := _read_schema(nested, form, f"{full}.{i}.", {}))]
        return bool(rows) or f.required, rows
    nested = _nested_schema(f)
    if nested is not None:
        data = _read_schema(nested, form, full + ".", {})
        return bool(data), data
    if isinstance(f, fields.Boolean):
        return full in form, form.get(full) in ("y", "on", "true", "1")
    raw = (form.get(full) or "").strip()
    if raw == "":
        return False, None
    if isinstance(f, fields.Integer) and raw.lstrip("-").isdigit():
        return True, int(raw)
    if isinstance(f, fields.Decimal | fields.Float):
        # A decimal comma is read as a point; whole numbers are kept as JSON numbers, others as
        # text, which the schema reads exactly (a float would not be).
        text = raw.replace(",", ".") if raw.count(",") == 1 and "." not in raw else raw
        return True, int(text) if text.lstrip("-").isdigit() else text
    if not isinstance(f, fields.String | fields.Date | fields.Integer):
        try:
            return True, json.loads(raw)
        except ValueError as exc:
            errors[key] = [f"Not valid JSON: {exc}."]
            return False, None
    return True, raw


def _read_schema(schema: Schema, form: Any, prefix: str, errors: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, f in schema.fields.items():
        if f.dump_only:
            continue
        key = f.data_key or name
        present, value = _read(f, form, prefix + key, errors, key)
        if present:
            data[key] = value
    return data


def form_data(
    schema: Schema | type[Schema], form: Any, prefix: str = ""
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The posted ``form`` (a MultiDict) as the input of ``schema.load``, and the errors only the
    form can make (a JSON field that is not JSON), by field."""
    instance = schema() if isinstance(schema, type) else schema
    errors: dict[str, list[str]] = {}
    return _read_schema(instance, form, prefix, errors), errors


def errors_by_name(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Marshmallow's nested messages by input name: ``{"params.tiers.1.threshold": [...]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            for sub, lines in errors_by_name(value, name).items():
                out.setdefault(sub, []).extend(lines)
    elif isinstance(messages, list):
        for item in messages:
            for sub, lines in errors_by_name(item, prefix).items():
                out.setdefault(sub, []).extend(lines)
    elif messages:
        out.setdefault(prefix, []).append(str(messages))
    return out


def error_lines(schema: Schema | type[Schema], messages: Any, title: str = "") -> list[str]:
    """The messages worded for people: "Tiers, row 2, threshold: Not a valid number."."""
    instance = schema() if isinstance(schema, type) else schema
    lines: list[str] = []

    def walk(current: Schema | None, value: Any, words: list[str]) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                if isinstance(key, int) or str(key).isdigit():
                    walk(current, sub, [*words, f"row {int(key) + 1}"])
                    continue
                f = current.fields.get(str(key)) if current is not None else None
                label = _label(str(key), f) if f is not None else str(key).replace("_", " ")
                inner = None
                if f is not None:
                    target = f.inner if isinstance(f, fields.List) else f
                    inner = _nested_schema(target)
                walk(inner, sub, [*words, label if not words else label.lower()])
        elif isinstance(value, list):
            for item in value:
                walk(current, item, words)
        else:
            lines.append(f"{', '.join(words)}: {value}" if words else str(value))

    walk(instance, messages, [title] if title else [])
    return lines
