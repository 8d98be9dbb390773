"""Form schemas and form plumbing of the administration pages."""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import EXCLUDE, ValidationError, fields, pre_load, validates_schema
from marshmallow import validate as v

from core.schemas import Schema

USERS = "core.users"
ADMIN_GROUP = "admin"
PER_PAGE = 50
MIN_PASSWORD = 10
PASSWORD_FIELDS = frozenset({"password", "password_confirm", "current_password"})


# --- schemas -------------------------------------------------------------------------------------


def _text(max_length: int, *, required: bool = True, extra: Any = None) -> fields.String:
    def check(value: str) -> None:
        if required and not value:
            raise ValidationError("Required.")
        if len(value) > max_length:
            raise ValidationError(f"At most {max_length} characters.")
        if extra is not None and value:
            extra(value)

    if required:
        return fields.String(
            required=True, validate=check, error_messages={"required": "Required."}
        )
    return fields.String(load_default="", validate=check)


_email = v.Email(error="Not a valid email address.")


def _password() -> fields.String:
    return fields.String(
        required=True,
        error_messages={"required": "Required."},
        validate=v.Length(
            min=MIN_PASSWORD, max=200, error="Between {min} and {max} characters, please."
        ),
    )


class FormSchema(Schema):
    """Shared by the forms of this module: posted HTML forms carry extras (the CSRF token)."""

    class Meta:
        unknown = EXCLUDE

    @pre_load
    def strip(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        # Spaces around a name or login are typing accidents; around a password they are not.
        return {
            key: value.strip() if isinstance(value, str) and key not in PASSWORD_FIELDS else value
            for key, value in data.items()
        }


class NewPasswordMixin(Schema):
    password = _password()
    password_confirm = fields.String(required=True, error_messages={"required": "Required."})

    @validates_schema
    def passwords_match(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("password") != data.get("password_confirm"):
            raise ValidationError("The two passwords differ.", field_name="password_confirm")


class UserEditSchema(FormSchema):
    name = _text(200)
    email = _text(200, required=False, extra=_email)
    groups = fields.List(fields.Integer(), load_default=list)


class UserCreateSchema(UserEditSchema, NewPasswordMixin):
    login = _text(
        100,
        extra=v.Regexp(
            r"^[A-Za-z0-9._@+-]+$", error="Letters, digits and . _ @ + - only, without spaces."
        ),
    )


class PasswordResetSchema(FormSchema, NewPasswordMixin):
    pass


class OwnPasswordSchema(FormSchema, NewPasswordMixin):
    current_password = fields.String(required=True, error_messages={"required": "Required."})


class GroupEditSchema(FormSchema):
    name = _text(100)
    permissions = fields.List(fields.String(), load_default=list)
    members = fields.List(fields.Integer(), load_default=list)


class GroupCreateSchema(GroupEditSchema):
    code = _text(
        50,
        extra=v.Regexp(
            r"^[a-z][a-z0-9_]*$",
            error="Lowercase letters, digits and _ only, starting with a letter.",
        ),
    )


USER_LABELS = {
    "current_password": "Current password",
    "login": "Login",
    "name": "Name",
    "email": "Email",
    "groups": "Groups",
    "password": "Password",
    "password_confirm": "Password again",
    "_schema": "Form",
}
GROUP_LABELS = {
    "code": "Code",
    "name": "Name",
    "permissions": "Permissions",
    "members": "Members",
    "_schema": "Form",
}


def posted(*lists: str) -> dict[str, Any]:
    """The posted form as a dict: one value per field, all values for the ``lists``."""
    data: dict[str, Any] = {k: v for k, v in request.form.items() if k not in lists}
    for name in lists:
        data[name] = request.form.getlist(name)
    return data


def flatten_messages(messages: Any) -> list[str]:
    if isinstance(messages, dict):  # errors of list items come keyed by position
        return [m for value in messages.values() for m in flatten_messages(value)]
    if isinstance(messages, list | tuple):
        return [m for value in messages for m in flatten_messages(value)]
    return [str(messages)]


def load_form(schema: Schema, data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    try:
        return schema.load(data), {}
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return {}, {field: flatten_messages(value) for field, value in messages.items()}


def add_error(errors: dict[str, list[str]], field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)
