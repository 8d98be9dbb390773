"""docs/plugins.md and core/hookspecs.py stay in step: every hook of the contract has a
``### crm_<hook>`` section with an example, and every such section documents a real hook."""

from __future__ import annotations

import re
from pathlib import Path

import pluggy
import pytest

import core.hookspecs

PLUGIN_GUIDE = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"
HOOK_HEADING = re.compile(r"^### (crm_\w+)$")


def contract_hooks() -> list[str]:
    pm = pluggy.PluginManager(core.hookspecs.PROJECT)
    pm.add_hookspecs(core.hookspecs)
    return sorted(name for name in vars(pm.hook) if name.startswith("crm_"))


def hook_sections() -> dict[str, str]:
    """``### crm_x`` heading -> the text of its section (up to the next heading of any level)."""
    sections: dict[str, str] = {}
    current: str | None = None
    in_code = False
    for line in PLUGIN_GUIDE.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
        if in_code or not line.startswith("#"):
            if current is not None:
                sections[current] += line + "\n"
            continue
        match = HOOK_HEADING.match(line)
        current = match.group(1) if match else None
        if current is not None:
            assert current not in sections, f"{current} is documented twice"
            sections[current] = ""
    return sections


def test_hook_headings_have_exactly_the_reference_form():
    loose = [
        line
        for line in PLUGIN_GUIDE.read_text(encoding="utf-8").splitlines()
        if line.startswith("### crm_") and not HOOK_HEADING.match(line)
    ]
    assert not loose, f"write hook headings as '### crm_name', nothing else: {loose}"


@pytest.mark.parametrize("hook", contract_hooks())
def test_every_hook_is_documented_with_an_example(hook):
    sections = hook_sections()
    assert hook in sections, f"docs/plugins.md has no '### {hook}' section"
    assert "```python" in sections[hook], f"the section of {hook} shows no example"
    assert f"def {hook}(" in sections[hook], f"the example of {hook} does not implement it"


@pytest.mark.parametrize("heading", sorted(hook_sections()))
def test_every_documented_hook_exists(heading):
    assert heading in contract_hooks(), f"docs/plugins.md documents {heading}, not a hook"
