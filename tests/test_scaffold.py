"""``crm scaffold``: the generated distribution installs with pip, is discovered, installs into a
database, and its own tests and linters pass.

The end-to-end test installs the generated project with ``pip --target`` into a temporary folder
put on PYTHONPATH, never into the shared virtual environment, and builds it with the hatchling of
this environment, so it needs no network.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.cli import main
from core.scaffold import scaffold

BIN = Path(sys.executable).parent
NAME = "acme_visits"


def run(args: list[str | Path], **kwargs) -> str:
    result = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=120, **kwargs
    )
    assert result.returncode == 0, (
        f"{' '.join(map(str, args))} exited with {result.returncode}\n"
        f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    )
    # stderr too: `crm module list` says there why a module is broken.
    return result.stdout + result.stderr


def module_state(listing: str, name: str) -> str:
    match = re.search(rf"^{name}\s+\S+\s+(installed|not installed|broken)\b", listing, re.M)
    assert match, f"{name} is not in the module list:\n{listing}"
    return match.group(1)


@pytest.mark.slow
def test_a_scaffolded_module_installs_migrates_and_passes_its_tests(tmp_path):
    # Every command runs in tmp_path and `python -m` puts the working directory on sys.path: the
    # project lives one level down, so that its source folder cannot shadow the installed copy.
    projects, site = tmp_path / "projects", tmp_path / "site"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PYTHONPATH")}
    env.update(
        PYTHONPATH=str(site),
        CRM_INSTANCE_PATH=str(tmp_path / "instance"),
        CRM_ADMIN_PASSWORD="x",
    )

    out = run([BIN / "crm", "scaffold", NAME, "--directory", projects], cwd=tmp_path)
    project = projects / NAME
    assert str(project) in out
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    offline = ["--no-deps", "--no-build-isolation", "--no-index"]
    run([*pip, *offline, "--target", site, project], cwd=tmp_path)
    assert (site / NAME / "templates" / NAME / "form.html").is_file()
    assert (site / NAME / "migrations" / "versions" / f"{NAME}_0001_initial.py").is_file()

    def crm(*args: str) -> str:
        return run([BIN / "crm", *args], env=env, cwd=tmp_path)

    crm("init")
    listing = crm("module", "list")
    assert module_state(listing, NAME) == "not installed", listing
    assert f"Installed: {NAME}" in crm("module", "install", NAME)
    listing = crm("module", "list")
    assert module_state(listing, NAME) == "installed", listing
    routes = crm("routes")
    assert re.search(rf"^/{NAME}/records/new\s.*\s{NAME}\.write\s", routes, re.M), routes

    out = run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", project / "tests"],
        env=env,
        cwd=tmp_path,
    )
    assert re.search(r"\b4 passed\b", out), out

    # Partners lint what they were given: it must be clean under its own settings and under
    # ruff's defaults.
    ruff = BIN / "ruff"
    if ruff.exists():
        run([ruff, "check", "--no-cache", "."], cwd=project)
        run([ruff, "check", "--no-cache", "--isolated", "--select", "E,F,W,I", "."], cwd=project)
        run([ruff, "format", "--check", "--no-cache", "."], cwd=project)


def test_the_generated_tree(tmp_path):
    project = scaffold("acme_visits", str(tmp_path))
    assert project == tmp_path / "acme_visits"
    files = {p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file()}
    assert files == {
        ".gitignore",
        "README.md",
        "pyproject.toml",
        "acme_visits/__init__.py",
        "acme_visits/plugin.py",
        "acme_visits/models.py",
        "acme_visits/schemas.py",
        "acme_visits/views.py",
        "acme_visits/templates/acme_visits/list.html",
        "acme_visits/templates/acme_visits/form.html",
        "acme_visits/migrations/versions/acme_visits_0001_initial.py",
        "tests/test_acme_visits.py",
    }
    for path in project.rglob("*.py"):
        compile(path.read_text(encoding="utf-8"), str(path), "exec")
    pyproject = (project / "pyproject.toml").read_text(encoding="utf-8")
    assert 'name = "acme-visits"' in pyproject
    assert 'acme_visits = "acme_visits.plugin"' in pyproject
    versions = project / "acme_visits" / "migrations" / "versions"
    migration = (versions / "acme_visits_0001_initial.py").read_text(encoding="utf-8")
    assert 'revision: str = "acme_visits_0001"' in migration
    assert '("acme_visits",)' in migration
    # Nothing but the project is left next to it.
    assert [p.name for p in tmp_path.iterdir()] == ["acme_visits"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("AcmeVisits", "lowercase letters, digits and single underscores"),
        ("acme-visits", "lowercase letters, digits and single underscores"),
        ("1acme", "lowercase letters, digits and single underscores"),
        ("acme_", "lowercase letters, digits and single underscores"),
        ("acme__visits", "lowercase letters, digits and single underscores"),
        ("a" * 28, "at most 27"),
        ("class", "Python keyword"),
        ("core", "taken by Python or the CRM"),
        ("json", "taken by Python or the CRM"),
        ("tests", "taken by Python or the CRM"),
        ("crm_contacts", "already installed"),
        ("flask", "already importable"),
    ],
)
def test_bad_names_are_refused_with_a_clear_message(tmp_path, name, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        scaffold(name, str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_an_existing_folder_is_not_overwritten(tmp_path):
    (tmp_path / "acme_visits").mkdir()
    (tmp_path / "acme_visits" / "mine.txt").write_text("keep")
    with pytest.raises(ValueError, match="already exists"):
        scaffold("acme_visits", str(tmp_path))
    assert (tmp_path / "acme_visits" / "mine.txt").read_text() == "keep"


def test_the_command_reports_a_bad_name_without_a_traceback(tmp_path):
    result = CliRunner().invoke(main, ["scaffold", "Acme", "--directory", str(tmp_path)])
    assert result.exit_code == 1
    assert "Error: invalid module name 'Acme'" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_failed_render_leaves_nothing_behind(tmp_path):
    templates = tmp_path / "templates"
    (templates / "$name").mkdir(parents=True)
    (templates / "$name" / "ok.py.tmpl").write_text("x = 1\n")
    (templates / "$name" / "z_bad.py.tmpl").write_text("y = $no_such_placeholder\n")
    out = tmp_path / "out"
    with pytest.raises(KeyError):
        scaffold("acme_visits", str(out), templates=templates)
    assert list(out.iterdir()) == []
