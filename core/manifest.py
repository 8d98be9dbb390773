"""A module's manifest: what the module is and what it needs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Manifest:
    """Declared next to a plugin's hook implementations as ``MANIFEST`` in its ``plugin.py``.

    ``name`` is the one id used everywhere: entry-point name, Python package, blueprint name,
    Alembic branch label and table prefix. ``version`` defaults to the distribution's version.
    An *application* is shown on the home page and the Apps page; a technical module only in Apps.
    """

    name: str
    summary: str = ""
    depends: tuple[str, ...] = ()
    application: bool = True
    version: str | None = None
    depends_optional: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(
                f"module name {self.name!r} must be lowercase letters, digits and underscores"
            )
        object.__setattr__(self, "depends", tuple(self.depends))
        object.__setattr__(self, "depends_optional", tuple(self.depends_optional))
        if self.name in self.depends:
            raise ValueError(f"module {self.name!r} cannot depend on itself")
