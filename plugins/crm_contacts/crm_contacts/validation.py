"""Validation and normalisation of identifiers, by well-kept libraries: VAT numbers (python-stdnum,
per country), phone numbers (phonenumbers, stored in E.164), IBAN and BIC (python-stdnum).

Each function returns the normalised value or raises ``marshmallow.ValidationError`` with a message
for the user; forms, the JSON API and the CSV import all go through them.
"""

from __future__ import annotations

import functools

import phonenumbers
from marshmallow import ValidationError
from stdnum import bic, get_cc_module, iban
from stdnum.exceptions import ValidationError as StdnumError


def normalise_country(value: str) -> str:
    code = (value or "").strip().upper()
    if len(code) != 2 or not code.isalpha():
        raise ValidationError("A two-letter country code (ISO 3166), e.g. BG or DE.")
    return code


# Pure functions, and a schema asks each twice per record (check, then normalise): memoised, the
# CSV import of 100,000 clients parses each number once.
@functools.lru_cache(maxsize=4096)
def normalise_vat(value: str, country: str) -> str:
    """``BG175074752`` from ``bg 175 074 752``. Checked where python-stdnum knows the country's
    VAT numbers; elsewhere only compacted, since refusing a valid foreign number is worse."""
    raw = (value or "").strip()
    if not raw:
        return ""
    prefix = raw[:2].upper()
    if prefix.isalpha() and get_cc_module(prefix.lower(), "vat") is not None:
        country = "GR" if prefix == "EL" else prefix  # Greece writes EL in VAT numbers
    module = get_cc_module(country.lower(), "vat") if country else None
    if module is None:
        return raw.replace(" ", "").upper()
    try:
        compact = module.validate(raw)
    except StdnumError:
        raise ValidationError(f"Not a valid VAT number for {country}.") from None
    vat_prefix = "EL" if country == "GR" else country
    return compact if compact[:2].isalpha() else f"{vat_prefix}{compact}"


@functools.lru_cache(maxsize=4096)
def normalise_phone(value: str, country: str) -> str:
    """E.164 (``+35921234567``); a number without ``+`` is read as a number of ``country``."""
    raw = (value or "").strip()
    try:
        number = phonenumbers.parse(raw, (country or "").upper() or None)
    except phonenumbers.NumberParseException:
        raise ValidationError("Not a phone number.") from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            "Not a valid phone number"
            + (f" for {country}" if not raw.startswith("+") and country else "")
            + "; write it with the country code, e.g. +359 2 123 4567."
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@functools.lru_cache(maxsize=4096)
def format_phone(e164: str) -> str:
    """For people: ``+359 2 123 4567`` (kept: a page shows the same numbers again and again, and
    parsing one costs 50 µs)."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@functools.lru_cache(maxsize=4096)
def normalise_iban(value: str) -> str:
    try:
        return iban.validate(value or "")
    except StdnumError:
        raise ValidationError("Not a valid IBAN (check the digits and the length).") from None


@functools.lru_cache(maxsize=4096)
def normalise_bic(value: str) -> str:
    if not (value or "").strip():
        return ""
    try:
        return bic.validate(value)
    except StdnumError:
        raise ValidationError("Not a valid BIC (8 or 11 letters and digits).") from None
