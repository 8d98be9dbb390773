"""A plugin with a misspelled hook: ``crm_menu`` instead of ``crm_menus``."""

from core import Manifest, MenuItem, hookimpl

MANIFEST = Manifest(name="crm_broken_hook", summary="Implements a hook that does not exist")


@hookimpl
def crm_menu():
    return [MenuItem("crm_broken_hook.root", "Never shown")]
