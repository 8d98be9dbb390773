"""Small helpers of the module's pages: form values to schema input, error flattening, pages."""

from __future__ import annotations

import math
from typing import Any

from flask import request

PER_PAGE = 50


def flatten_errors(messages: Any, prefix: str = "") -> list[str]:
    """Nested marshmallow messages as lines naming their field: ``tiers.0.percent: ...``."""
    if isinstance(messages, dict):
        out: list[str] = []
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out += flatten_errors(value, name)
        return out
    if isinstance(messages, list | tuple):
        if all(isinstance(m, str) for m in messages):
            return [f"{prefix}: {m}" if prefix else m for m in messages]
        return [line for m in messages for line in flatten_errors(m, prefix)]
    return [f"{prefix}: {messages}" if prefix else str(messages)]


def field_errors(messages: dict[str, Any]) -> dict[str, list[str]]:
    """Top-level fields keep their own messages; nested ones (params) are flattened."""
    out: dict[str, list[str]] = {}
    for key, value in messages.items():
        if isinstance(value, list) and all(isinstance(m, str) for m in value):
            out[key] = value
        else:
            out[key] = flatten_errors(value)
    return out


def pages(total: int, per_page: int = PER_PAGE) -> tuple[int, int]:
    """``(page, pages)`` of the request's ``?page=``, clamped (not a number: the first)."""
    count = max(1, math.ceil(total / per_page))
    try:
        page = int((request.args.get("page") or "").strip() or 1)
    except ValueError:
        page = 1
    return min(max(page, 1), count), count
