"""Discovery of plugins: broken ones are recorded and skipped, never fatal; strict mode re-raises;
dependencies come first. The broken fixture plugins (tests/fixture_plugins/<case>/) are put on the
path only by the tests that use them, because CI runs with CRM_STRICT_PLUGINS=1."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path

import pluggy
import pytest

from core.manifest import Manifest
from core.modules import ModuleError, install
from core.plugins import (
    ENTRY_POINT_GROUP,
    PluginError,
    PluginInfo,
    dependency_closure,
    discover,
    topological,
)
from core.testing import logged_in, make_user
from tests.helpers import free_port

FIXTURE_PLUGINS = Path(__file__).resolve().parent / "fixture_plugins"
BROKEN_CASES = ("broken_import", "broken_hook", "missing_dep", "cycle")
CRM = Path(sys.executable).parent / "crm"


def fixture_entry_points(case: str) -> list[metadata.EntryPoint]:
    folder = str(FIXTURE_PLUGINS / case)
    return [
        ep
        for dist in metadata.distributions(path=[folder])
        for ep in dist.entry_points
        if ep.group == ENTRY_POINT_GROUP
    ]


def fixture_packages(case: str) -> set[str]:
    return {ep.module.split(".")[0] for ep in fixture_entry_points(case)}


@pytest.fixture
def discover_with(monkeypatch, crm_plugins) -> Iterator[Callable[..., dict[str, PluginInfo]]]:
    """``discover_with(*cases, strict=False)``: discovery of the real plugins plus the fixture
    plugins of ``cases``, whose folders are on sys.path for this test only."""
    real = list(metadata.entry_points(group=ENTRY_POINT_GROUP))
    added: set[str] = set()

    def run(*cases: str, strict: bool | None = False) -> dict[str, PluginInfo]:
        extra = []
        for case in cases:
            monkeypatch.syspath_prepend(str(FIXTURE_PLUGINS / case))
            extra += fixture_entry_points(case)
            added.update(fixture_packages(case))
        return discover(entry_points=[*real, *extra], strict=strict)

    yield run
    for name in list(sys.modules):
        if name.split(".")[0] in added:
            del sys.modules[name]


def healthy_names(plugins: dict[str, PluginInfo]) -> list[str]:
    return [name for name, info in plugins.items() if not info.broken]


# ---------------------------------------------------------------------------------------------
# Broken plugins are recorded and skipped
# ---------------------------------------------------------------------------------------------


def test_a_plugin_whose_import_raises_is_broken_and_skipped(discover_with, crm_plugins, caplog):
    with caplog.at_level(logging.ERROR, logger="core.plugins"):
        plugins = discover_with("broken_import")
    info = plugins["crm_broken_import"]
    assert info.broken and info.module is None and info.manifest is None
    assert info.error == (
        "failed to load: RuntimeError: crm_broken_import fails on purpose at import time"
    )
    assert (info.distribution, info.version) == ("crm-broken-import", "0.1.0")
    assert "plugin crm_broken_import failed to load and is skipped" in caplog.text
    assert healthy_names(plugins) == healthy_names(crm_plugins)
    assert list(plugins)[-1] == "crm_broken_import"


def test_a_misspelled_hook_is_reported_naming_the_plugin_and_the_hook(discover_with, crm_plugins):
    plugins = discover_with("broken_hook")
    error = plugins["crm_broken_hook"].error
    assert error is not None
    assert "unknown hook 'crm_menu'" in error
    assert "crm_broken_hook" in error
    assert "misspelled" in error
    assert healthy_names(plugins) == healthy_names(crm_plugins)


def test_a_missing_dependency_breaks_the_plugin_and_its_dependants(discover_with, crm_plugins):
    plugins = discover_with("missing_dep")
    assert plugins["crm_missing_dep"].error == (
        "depends on 'crm_does_not_exist', which is not available (is it pip-installed?)"
    )
    # The dependant names the root cause too, so nobody has to follow the chain by hand.
    assert plugins["crm_missing_dep_child"].error == (
        "depends on 'crm_missing_dep', which is broken (depends on 'crm_does_not_exist', "
        "which is not available (is it pip-installed?))"
    )
    assert healthy_names(plugins) == healthy_names(crm_plugins)


def test_a_dependency_cycle_is_reported_on_every_member(discover_with, crm_plugins):
    plugins = discover_with("cycle")
    for name in ("crm_cycle_a", "crm_cycle_b"):
        assert plugins[name].error == "dependency cycle: crm_cycle_a -> crm_cycle_b -> crm_cycle_a"
    assert healthy_names(plugins) == healthy_names(crm_plugins)


def test_all_broken_plugins_together_leave_the_healthy_ones_alone(discover_with, crm_plugins):
    plugins = discover_with(*BROKEN_CASES)
    broken = sorted(name for name, info in plugins.items() if info.broken)
    assert broken == [
        "crm_broken_hook",
        "crm_broken_import",
        "crm_cycle_a",
        "crm_cycle_b",
        "crm_missing_dep",
        "crm_missing_dep_child",
    ]
    assert list(plugins)[-len(broken) :] == broken
    assert healthy_names(plugins) == healthy_names(crm_plugins)


STRICT_FAILURES = {
    "broken_import": (RuntimeError, "fails on purpose"),
    "broken_hook": (pluggy.PluginValidationError, "crm_menu"),
    "missing_dep": (PluginError, "crm_does_not_exist"),
    "cycle": (PluginError, "dependency cycle"),
}


@pytest.mark.parametrize("case", BROKEN_CASES)
def test_strict_discovery_reraises(discover_with, case):
    error, message = STRICT_FAILURES[case]
    with pytest.raises(error, match=message):
        discover_with(case, strict=True)


@pytest.mark.parametrize("case", BROKEN_CASES)
def test_crm_strict_plugins_environment_variable_reraises(discover_with, monkeypatch, case):
    error, message = STRICT_FAILURES[case]
    monkeypatch.setenv("CRM_STRICT_PLUGINS", "1")
    with pytest.raises(error, match=message):
        discover_with(case, strict=None)
    monkeypatch.setenv("CRM_STRICT_PLUGINS", "0")
    assert discover_with(case, strict=None)


# ---------------------------------------------------------------------------------------------
# Dependency order
# ---------------------------------------------------------------------------------------------


def test_discovery_order_puts_dependencies_first(crm_plugins):
    names = list(crm_plugins)
    for position, name in enumerate(names):
        for dep in crm_plugins[name].depends:
            assert names.index(dep) < position, f"{name} comes before its dependency {dep}"
    assert (
        names.index("crm_contacts") < names.index("crm_fixture") < names.index("crm_fixture_user")
    )


def test_topological_order_and_dependency_closure(crm_plugins):
    wanted = ["crm_fixture_user", "crm_fixture", "crm_contacts"]
    assert topological(wanted, crm_plugins) == ["crm_contacts", "crm_fixture", "crm_fixture_user"]
    assert dependency_closure(["crm_fixture_user"], crm_plugins) == [
        "crm_contacts",
        "crm_fixture",
        "crm_fixture_user",
    ]
    with pytest.raises(PluginError, match="unknown module 'crm_nowhere'"):
        dependency_closure(["crm_nowhere"], crm_plugins)


def _info(name: str, depends: tuple[str, ...] = (), after: tuple[str, ...] = ()) -> PluginInfo:
    return PluginInfo(name=name, manifest=Manifest(name=name, depends=depends, after=after))


def test_after_orders_modules_that_are_there_without_installing_them():
    plugins = {
        info.name: info
        for info in (
            _info("crm_a"),
            _info("crm_b", depends=("crm_a",), after=("crm_c",)),
            _info("crm_c", depends=("crm_a",)),
        )
    }
    assert topological(["crm_a", "crm_b", "crm_c"], plugins) == ["crm_a", "crm_c", "crm_b"]
    # Not wanted, not pulled in: "after" is no dependency.
    assert topological(["crm_a", "crm_b"], plugins) == ["crm_a", "crm_b"]
    assert dependency_closure(["crm_b"], plugins) == ["crm_a", "crm_b"]


def test_an_after_that_would_close_a_loop_is_dropped_not_fatal():
    loop = {
        info.name: info
        for info in (_info("crm_a", after=("crm_b",)), _info("crm_b", depends=("crm_a",)))
    }
    assert topological(["crm_b", "crm_a"], loop) == ["crm_a", "crm_b"]
    mutual = {
        info.name: info
        for info in (_info("crm_a", after=("crm_b",)), _info("crm_b", after=("crm_a",)))
    }
    assert sorted(topological(["crm_a", "crm_b"], mutual)) == ["crm_a", "crm_b"]


def test_bundled_contracts_come_after_sales_when_both_are_there(crm_plugins):
    order = topological(["crm_contracts", "crm_sales", "crm_contacts"], crm_plugins)
    assert order.index("crm_sales") < order.index("crm_contracts")


def test_dependency_closure_refuses_broken_modules_naming_the_reason(discover_with):
    plugins = discover_with("missing_dep", "cycle")
    with pytest.raises(PluginError, match="'crm_missing_dep_child' is broken: depends on 'crm_mi"):
        dependency_closure(["crm_missing_dep_child"], plugins)
    with pytest.raises(PluginError, match="dependency cycle"):
        topological(["crm_cycle_a", "crm_cycle_b"], plugins)


# ---------------------------------------------------------------------------------------------
# End to end: a broken plugin never takes the installation down
# ---------------------------------------------------------------------------------------------


def test_the_application_serves_with_broken_plugins_around(
    discover_with, crm_app_factory, monkeypatch
):
    monkeypatch.delenv("CRM_STRICT_PLUGINS", raising=False)
    plugins = discover_with(*BROKEN_CASES)
    app = crm_app_factory(["crm_fixture_user"], plugins=plugins)
    anonymous = app.test_client()
    assert anonymous.get("/health").get_json() == {"status": "ok"}

    make_user(app, "root", groups=("admin",))
    admin = logged_in(app, "root")
    assert admin.get("/fixture/notes").status_code == 200
    apps = admin.get("/apps").get_data(as_text=True)
    assert 'data-module="crm_broken_import"' in apps
    assert "crm_broken_import fails on purpose at import time" in apps
    assert "unknown hook &#39;crm_menu&#39;" in apps

    refused = admin.post("/apps/crm_missing_dep_child/install", follow_redirects=True)
    assert "depends on &#39;crm_missing_dep&#39;, which is broken" in refused.get_data(as_text=True)
    crm = app.extensions["crm"]
    with pytest.raises(ModuleError, match="crm_broken_import"):
        install(crm.engine, plugins, ["crm_broken_import"])


def cli_environment(crm_databases, crm_plugins, tmp_path: Path, *cases: str) -> dict[str, str]:
    """The environment of a ``crm`` subprocess on a fresh core-only database, with the fixture
    plugins of ``cases`` importable."""
    env = {k: v for k, v in os.environ.items() if k != "CRM_STRICT_PLUGINS"}
    paths = [str(FIXTURE_PLUGINS / case) for case in cases]
    env["PYTHONPATH"] = os.pathsep.join([*paths, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["DATABASE_URL"] = crm_databases.fresh([], crm_plugins)
    env["CRM_INSTANCE_PATH"] = str(tmp_path / "instance")
    env["SECRET_KEY"] = "test-secret"
    return env


@pytest.mark.slow
def test_crm_module_list_shows_a_broken_plugin(crm_databases, crm_plugins, tmp_path):
    env = cli_environment(crm_databases, crm_plugins, tmp_path, "broken_import")
    result = subprocess.run(
        [str(CRM), "module", "list"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line.strip()}
    assert rows["crm_broken_import"][2] == "broken"
    assert rows["crm_contacts"][1:4] == ["0.1.0", "not", "installed"]
    assert (
        "crm_broken_import is broken: failed to load: RuntimeError: "
        "crm_broken_import fails on purpose at import time"
    ) in result.stderr


@pytest.mark.slow
def test_crm_module_list_in_strict_mode_fails_on_a_broken_plugin(
    crm_databases, crm_plugins, tmp_path
):
    env = cli_environment(crm_databases, crm_plugins, tmp_path, "broken_import")
    env["CRM_STRICT_PLUGINS"] = "1"
    result = subprocess.run(
        [str(CRM), "module", "list"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "crm_broken_import fails on purpose" in result.stderr


@pytest.mark.slow
def test_crm_run_serves_health_with_a_broken_plugin(crm_databases, crm_plugins, tmp_path):
    env = cli_environment(crm_databases, crm_plugins, tmp_path, *BROKEN_CASES)
    port = free_port()
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [str(CRM), "run", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        body = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and body is None:
            if server.poll() is not None:
                pytest.fail(f"crm run exited with {server.returncode}:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    body = r.read()
            except OSError:
                time.sleep(0.2)
        assert body == b'{"status":"ok"}\n', log_path.read_text()
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
    assert "crm_broken_import failed to load and is skipped" in log_path.read_text()
