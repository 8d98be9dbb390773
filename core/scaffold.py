"""``crm scaffold NAME``: a new plugin distribution that installs, migrates and passes its tests.

The files come from ``core/scaffold_template/``: every ``*.tmpl`` file there, paths included, goes
through ``string.Template`` and loses its suffix. The templates are not Python modules, so neither
the core's linters nor its test collection trip over their placeholders.
"""

from __future__ import annotations

import keyword
import re
import secrets
import shutil
import sys
from datetime import date
from importlib import metadata, util
from pathlib import Path
from string import Template

from core.plugins import ENTRY_POINT_GROUP

TEMPLATE_DIR = Path(__file__).resolve().parent / "scaffold_template"
SUFFIX = ".tmpl"

# Stricter than a manifest name: the distribution name (dashes for underscores) must start and end
# with a letter or digit, and a doubled underscore would make two spellings of one distribution.
_NAME = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")

# The first revision is "<name>_0001" and later ones "<name>_NNNN" (``crm db revision``); Alembic's
# version table holds 32 characters, which PostgreSQL enforces.
MAX_NAME_LENGTH = 27

# Names that are not importable packages here yet would still collide with something: the console
# script, the folders of every project layout, the scaffold's own package folders.
_RESERVED = frozenset({"core", "crm", "plugins", "tests", "test", "migrations", "templates"})


def render_context(name: str) -> dict[str, str]:
    """The placeholders the templates may use."""
    return {
        "name": name,
        "dist_name": name.replace("_", "-"),
        "title": name.replace("_", " ").capitalize(),
        # One neutral class name whatever the module is called: the partner renames it to what the
        # module really holds, instead of inheriting a plural or odd CamelCase from the module name.
        "model_class": "Record",
        "date": date.today().isoformat(),
    }


def check_name(name: str, directory: Path) -> None:
    """Raise ValueError, saying what to do instead, when ``name`` cannot be a new module here."""
    if not _NAME.match(name):
        raise ValueError(
            f"invalid module name {name!r}: use lowercase letters, digits and single underscores, "
            "starting with a letter and not ending with an underscore (for example acme_visits)"
        )
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(
            f"module name {name!r} is {len(name)} characters long: at most {MAX_NAME_LENGTH}, "
            "so that its migration ids fit Alembic's version table"
        )
    if keyword.iskeyword(name):
        raise ValueError(f"module name {name!r} is a Python keyword: choose another name")
    if name in _RESERVED or name in sys.stdlib_module_names:
        raise ValueError(
            f"module name {name!r} is taken by Python or the CRM itself: "
            f"prefix it with your company, for example acme_{name}"
        )
    if name in {ep.name for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}:
        raise ValueError(f"a CRM module named {name!r} is already installed in this environment")
    if util.find_spec(name) is not None:
        raise ValueError(
            f"a Python package named {name!r} is already importable in this environment: "
            "choose another name, for example with your company as a prefix"
        )
    target = directory / name
    if target.exists():
        raise ValueError(f"{target} already exists: choose another name or directory")


def scaffold(name: str, directory: str, templates: Path = TEMPLATE_DIR) -> Path:
    """Create the distribution of a new module ``name`` in ``directory/name`` and return its path.

    The result is complete or absent: files are rendered into a scratch folder next to the target
    and moved into place in one rename.
    """
    base = Path(directory).expanduser().resolve()
    check_name(name, base)
    context = render_context(name)
    base.mkdir(parents=True, exist_ok=True)
    staging = base / f".{name}-{secrets.token_hex(4)}.partial"
    staging.mkdir()
    try:
        for source in sorted(templates.rglob(f"*{SUFFIX}")):
            relative = source.relative_to(templates).as_posix().removesuffix(SUFFIX)
            target = staging / Template(relative).substitute(context)
            target.parent.mkdir(parents=True, exist_ok=True)
            text = Template(source.read_text(encoding="utf-8")).substitute(context)
            target.write_text(text, encoding="utf-8")
        destination = base / name
        staging.rename(destination)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return destination
