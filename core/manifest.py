"""A module's manifest: what the module is and what it needs."""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# Revision ids are "<name>_NNNN" and Alembic's version column holds 32 characters.
MAX_NAME_LENGTH = 27


@dataclass(frozen=True)
class Manifest:
    """Declared next to a plugin's hook implementations as ``MANIFEST`` in its ``plugin.py``.

    ``name`` is the one id used everywhere: entry-point name, Python package, blueprint name,
    Alembic branch label and table prefix. ``version`` defaults to the distribution's version;
    ``label`` is what people read (default: the name without ``crm_``, capitalised).
    An *application* is shown on the home page and the Apps page; a technical module only in Apps.
    ``after`` names modules this one cooperates with when they happen to be installed (through
    hooks or the model registry, never imports): where both are installed they come first (demo
    data, hook calls), but installing this module does not install them.
    """

    name: str
    summary: str = ""
    depends: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    application: bool = True
    version: str | None = None
    label: str = ""

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(
                f"module name {self.name!r} must be lowercase letters, digits and underscores"
            )
        if len(self.name) > MAX_NAME_LENGTH:
            raise ValueError(
                f"module name {self.name!r} is longer than {MAX_NAME_LENGTH} characters"
            )
        object.__setattr__(self, "depends", tuple(self.depends))
        object.__setattr__(self, "after", tuple(self.after))
        if not self.label:
            human = self.name.removeprefix("crm_").replace("_", " ").capitalize()
            object.__setattr__(self, "label", human)
        if self.name in self.depends or self.name in self.after:
            raise ValueError(f"module {self.name!r} cannot depend on itself")
