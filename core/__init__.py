"""The CRM framework core.

Plugins import the small public surface from here; everything else is an implementation detail
of the core's own modules.
"""

from core.home import HomeWidget
from core.hookspecs import hookimpl
from core.manifest import Manifest
from core.menus import MenuItem
from core.permissions import AUTHENTICATED, PUBLIC, Permission, permission_required
from core.registry import ModelDef, RecordPage

__all__ = [
    "AUTHENTICATED",
    "PUBLIC",
    "HomeWidget",
    "Manifest",
    "MenuItem",
    "ModelDef",
    "Permission",
    "RecordPage",
    "hookimpl",
    "permission_required",
]
__version__ = "0.1.0"
