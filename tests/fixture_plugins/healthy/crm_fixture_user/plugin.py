"""Manifest and hook implementations of crm_fixture_user."""

from __future__ import annotations

from core import Manifest, hookimpl

MANIFEST = Manifest(
    name="crm_fixture_user",
    summary="Test fixture using crm_fixture's own hook",
    depends=("crm_fixture",),
    application=False,
)


@hookimpl
def crm_fixture_extra():
    return ["contributed by crm_fixture_user"]


@hookimpl(optionalhook=True)
def crm_absent_module_sections():
    """A hook of a module that is not installed anywhere: optional, so never an error."""
    return ["never called"]
