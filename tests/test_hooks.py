"""Every hook of the plugin contract, exercised through the fixture module ``crm_fixture``
(tests/fixture_plugins/healthy), which implements all of them, and ``crm_fixture_user``, which
implements the hook specification crm_fixture adds through ``crm_addhooks``."""

from __future__ import annotations

import re
from decimal import Decimal
from types import SimpleNamespace

import pluggy
import pytest
from sqlalchemy import func, inspect, select

import core.hookspecs
import core.models
from core.cli import main as crm_cli
from core.models import Module
from core.modules import ModuleError, uninstall
from core.plugins import collect
from core.pricing import Adjustment
from core.state import current_state
from core.testing import granted_permissions, logged_in, make_user
from tests.helpers import run_cli

MODULES = ["crm_fixture", "crm_fixture_user"]


def contract_hooks() -> list[str]:
    pm = pluggy.PluginManager(core.hookspecs.PROJECT)
    pm.add_hookspecs(core.hookspecs)
    return sorted(name for name in vars(pm.hook) if name.startswith("crm_"))


@pytest.fixture
def app(crm_app_factory):
    return crm_app_factory(MODULES)


@pytest.fixture
def admin(app):
    make_user(app, "root", groups=("admin",))
    return logged_in(app, "root")


def state_of(app):

    with app.test_request_context():
        return current_state()


def note_model(app):
    return state_of(app).models.get("crm_fixture_note").model


def count_notes(app) -> int:
    from core.db import db_session

    with app.app_context():
        return db_session.scalar(select(func.count()).select_from(note_model(app)))


def test_the_fixture_implements_every_hook_of_the_contract(crm_plugins):
    """No hook goes untested: a new hook spec needs an implementation in crm_fixture (and a test
    here), as it needs a section in docs/plugins.md."""
    fixture = crm_plugins["crm_fixture"].module
    missing = [
        name
        for name in contract_hooks()
        if getattr(getattr(fixture, name, None), core.hookspecs.PROJECT + "_impl", None) is None
    ]
    assert not missing, f"crm_fixture implements no {missing}"


def test_fixture_modules_are_healthy_and_installed(app, crm_plugins):
    assert not crm_plugins["crm_fixture"].broken, crm_plugins["crm_fixture"].error
    assert not crm_plugins["crm_fixture_user"].broken, crm_plugins["crm_fixture_user"].error
    state = state_of(app)
    assert state.installed == ("crm_contacts", "crm_fixture", "crm_fixture_user")
    assert state.errors == {}
    for name in contract_hooks():
        implementers = [i.plugin_name for i in getattr(state.pm.hook, name).get_hookimpls()]
        assert "crm_fixture" in implementers, name


def test_crm_models_enter_the_registry(app):
    info = state_of(app).models.get("crm_fixture_note")
    assert (info.owner, info.label, info.plural) == ("crm_fixture", "Fixture note", "Fixture notes")
    fields = {f.name: f for f in info.fields}
    assert {"id", "title", "body", "client_id", "created_at", "client"} <= set(fields)
    assert fields["title"].label == "Title"
    assert fields["title"].required
    assert fields["client_id"].relation == "crm_contacts_client"
    assert fields["client"].type == "one"
    assert info.schema.__name__ == "NoteSchema"


def test_crm_models_are_described_by_the_api(admin):
    models = {m["name"]: m for m in admin.get("/api/v1/models").get_json()["items"]}
    assert models["crm_fixture_note"]["owner"] == "crm_fixture"


def test_crm_install_ran_in_the_install_transaction(app):
    from core.db import db_session
    from crm_fixture.plugin import INSTALL_NOTE

    with app.app_context():
        titles = db_session.scalars(select(note_model(app).title)).all()
        module = db_session.get(Module, "crm_fixture")
    assert titles == [INSTALL_NOTE]
    assert (module.state, module.version) == ("installed", "0.1.0")


def test_crm_user_saved_runs_when_a_user_is_created_or_their_groups_change(app, admin):
    from core.db import db_session

    user_id = make_user(app, "olga", groups=("sales_rep",))
    url = f"/settings/users/{user_id}"
    version = re.search(r'name="version" value="(\d+)"', admin.get(url).text).group(1)
    form = {"name": "Olga", "email": "", "version": version}
    with app.app_context():
        form["groups"] = [
            str(g)
            for g in db_session.scalars(
                select(core.models.Group.id).where(core.models.Group.code == "sales_manager")
            )
        ]
    assert admin.post(url, data=form).status_code == 302
    from crm_fixture.plugin import SAVED_USERS

    assert [groups for login, groups in SAVED_USERS if login == "olga"] == [
        "sales_rep",
        "sales_manager",
    ]


def test_crm_blueprints_page_and_api_for_an_admin(admin):
    page = admin.get("/fixture/notes")
    assert page.status_code == 200
    assert b"Written by crm_install" in page.data

    listing = admin.get("/api/v1/fixture/notes?sort=-title&per_page=10")
    assert listing.status_code == 200
    body = listing.get_json()
    assert body["meta"] == {"page": 1, "per_page": 10, "total": 1, "pages": 1}
    assert body["items"][0]["title"] == "Written by crm_install"


def test_crm_blueprints_api_follows_the_error_conventions(admin, app):
    bad_sort = admin.get("/api/v1/fixture/notes?sort=body")
    assert bad_sort.status_code == 400
    assert "sort" in bad_sort.get_json()["errors"]
    assert app.test_client().get("/api/v1/fixture/notes").status_code == 401


def test_crm_blueprints_api_is_in_the_openapi_document(admin):
    spec = admin.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/fixture/notes"]["get"]
    assert operation["summary"] == "List fixture notes"
    assert {p["name"] for p in operation["parameters"]} == {"q", "client_id"}


def test_crm_blueprints_routes_check_the_declared_permission(app):
    make_user(app, "rep", groups=("sales_rep",))
    make_user(app, "office", groups=("back_office",))
    rep, office = logged_in(app, "rep"), logged_in(app, "office")
    assert rep.get("/fixture/notes").status_code == 200
    assert office.get("/fixture/notes").status_code == 403
    assert office.get("/api/v1/fixture/notes").status_code == 403


def test_crm_menus_show_on_the_home_page(admin, app):
    home = admin.get("/")
    assert home.status_code == 200
    assert b'data-menu-id="crm_fixture.notes"' in home.data
    assert b'href="/fixture/notes"' in home.data
    menus = {m.id: m for m in state_of(app).menus}
    assert menus["crm_fixture.notes"].module == "crm_fixture"
    assert menus["crm_fixture.notes"].parent == "crm_fixture.root"


def test_crm_menus_hide_entries_the_user_may_not_open(app):
    make_user(app, "office", groups=("back_office",))
    office = logged_in(app, "office")
    assert b"crm_fixture.notes" not in office.get("/").data


def test_crm_permissions_are_stored_and_granted_to_default_groups(app):
    assert granted_permissions(app, "crm_fixture") == {
        "crm_fixture.read": ["admin", "sales_manager", "sales_rep"],
        "crm_fixture.write": ["admin", "sales_manager"],
    }
    perms = {p.code: p for p in state_of(app).permissions}
    assert perms["crm_fixture.read"].module == "crm_fixture"


def test_crm_record_rules_restrict_what_a_group_sees(app, admin):
    from core.db import db_session

    rule = {r.code: r for r in state_of(app).record_rules}["crm_fixture.no_confidential"]
    assert (rule.module, rule.groups) == ("crm_fixture", ("sales_rep",))
    with app.app_context():
        db_session.add(note_model(app)(title="Confidential plan"))
        db_session.commit()
    make_user(app, "rep", groups=("sales_rep",))
    rep = logged_in(app, "rep")

    def titles(client):
        return {n["title"] for n in client.get("/api/v1/fixture/notes").get_json()["items"]}

    assert titles(admin) == {"Confidential plan", "Written by crm_install"}
    assert titles(rep) == {"Written by crm_install"}
    assert b"Confidential plan" not in rep.get("/search?q=plan").data

    switched = admin.post(
        "/settings/record-rules/crm_fixture.no_confidential", data={"enabled": "0"}
    )
    assert switched.status_code == 302
    assert titles(rep) == {"Confidential plan", "Written by crm_install"}


def test_crm_pricing_rules_are_in_the_runtime_state(app):
    kinds = {k.name: k for k in state_of(app).pricing_rule_kinds}
    kind = kinds["crm_fixture.volume_discount"]
    assert (kind.module, kind.label, kind.order) == ("crm_fixture", "Volume discount (fixture)", 50)
    params = kind.schema().load({"min_quantity": 10, "percent": "7.5"})
    applied = kind.evaluate(SimpleNamespace(quantity=12), params)
    assert applied == Adjustment(reason="7.50% off from 10 units", discount_percent=Decimal("7.50"))
    assert kind.evaluate(SimpleNamespace(quantity=3), params) == "fewer than 10 units"


def test_crm_reports_are_in_the_runtime_state(app):
    state = state_of(app)
    report = {r.id: r for r in state.reports}["crm_fixture.notes_per_client"]
    assert report.module == "crm_fixture"
    assert report.model in state.models
    fields = {f.name for f in state.models.get(report.model).fields}
    assert set(report.columns) | set(report.group_by) | set(report.aggregates) <= fields


def test_crm_demo_data_through_the_cli(app):
    from core.db import db_session

    with app.app_context():
        db_session.add(state_of(app).models.get("crm_contacts_client").model(name="Demo Ltd"))
        db_session.commit()
    before = count_notes(app)
    result = app.test_cli_runner().invoke(crm_cli, ["demo", "--scale", "2"])
    assert result.exit_code == 0, result.output
    assert "crm_fixture" in result.output
    assert count_notes(app) == before + 6


def test_crm_search_hits_in_the_global_search(admin):
    page = admin.get("/search?q=crm_install")
    assert page.status_code == 200
    assert b"Written by crm_install" in page.data
    assert b"/fixture/notes?q=Written" in page.data


def test_crm_search_hides_hits_from_users_without_permission(app):
    make_user(app, "office", groups=("back_office",))
    office = logged_in(app, "office")
    assert b"Written by crm_install" not in office.get("/search?q=crm_install").data


def test_crm_addhooks_adds_a_spec_another_module_implements(app):
    state = state_of(app)
    assert state.pm.hook.crm_fixture_extra() == [["contributed by crm_fixture_user"]]
    assert collect(state.pm, "crm_fixture_extra") == [
        ("crm_fixture_user", "contributed by crm_fixture_user")
    ]
    # An optional implementation of a hook that no installed module specifies is no error.
    assert state.pm.hook.crm_absent_module_sections.spec is None
    assert "crm_fixture_user" not in state.errors


def test_uninstall_is_refused_while_a_dependant_is_installed(app):
    crm = app.extensions["crm"]
    with pytest.raises(ModuleError, match="crm_fixture_user"):
        uninstall(crm.engine, crm.plugins, "crm_fixture")


def test_crm_uninstall_runs_before_the_tables_are_dropped(app, admin, tmp_path, monkeypatch):
    from crm_fixture.plugin import UNINSTALL_LOG_ENV

    trace = tmp_path / "uninstall.log"
    monkeypatch.setenv(UNINSTALL_LOG_ENV, str(trace))
    crm = app.extensions["crm"]
    assert admin.get("/fixture/notes").status_code == 200

    uninstall(crm.engine, crm.plugins, "crm_fixture_user")
    impact = uninstall(crm.engine, crm.plugins, "crm_fixture")

    assert [t.name for t in impact.tables] == ["crm_fixture_note"]
    assert trace.read_text() == "crm_fixture uninstalled with 1 notes\n"
    with crm.engine.connect() as connection:
        assert "crm_fixture_note" not in inspect(connection).get_table_names()
        assert "crm_contacts_client" in inspect(connection).get_table_names()
    assert not granted_permissions(app, "crm_fixture")
    assert admin.get("/fixture/notes").status_code == 404
    assert admin.get("/api/v1/fixture/notes").status_code == 404
    assert b"crm_fixture.notes" not in admin.get("/").data
    assert "/api/v1/fixture/notes" not in admin.get("/api/v1/openapi.json").get_json()["paths"]
    state = state_of(app)
    assert "crm_fixture_note" not in state.models
    assert not hasattr(state.pm.hook, "crm_fixture_extra")


def test_crm_commands_join_the_crm_command_line(app):
    listed = run_cli(app, "--help")
    assert "fixture" in listed.output
    result = run_cli(app, "fixture", "count")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "1 notes"  # the one crm_install wrote


def test_crm_commands_refuse_where_their_module_is_not_installed(crm_app_factory):
    app = crm_app_factory(["crm_contacts"])
    result = run_cli(app, "fixture", "count")
    assert result.exit_code != 0
    assert "module crm_fixture is not installed in this database" in result.output


def test_crm_client_file_sections_show_while_the_module_is_installed(app, admin):
    """crm_contacts' own extension point: crm_fixture adds a section to the client file; once it
    is uninstalled the section is gone and the file still opens."""
    from core.db import db_session
    from crm_contacts.models import Client

    note = note_model(app)
    with app.app_context():
        client = Client(name="Bioprom")
        db_session.add(client)
        db_session.flush()
        db_session.add(note(title="Bring the samples <b>back</b>", client_id=client.id))
        db_session.commit()
        client_id = client.id
    html = admin.get(f"/contacts/clients/{client_id}").get_data(as_text=True)
    assert 'data-section="crm_fixture.notes"' in html
    assert 'data-module="crm_fixture"' in html
    assert "<li>Bring the samples &lt;b&gt;back&lt;/b&gt;</li>" in html

    crm = app.extensions["crm"]
    uninstall(crm.engine, crm.plugins, "crm_fixture_user")
    uninstall(crm.engine, crm.plugins, "crm_fixture")
    answer = admin.get(f"/contacts/clients/{client_id}")
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert "crm_fixture.notes" not in html and "Bring the samples" not in html
    assert 'data-section="crm_contacts.persons"' in html


def test_crm_home_widgets_show_on_the_home_page_while_the_module_is_installed(app, admin):
    html = admin.get("/").get_data(as_text=True)
    assert 'data-widget="crm_fixture.latest_notes"' in html
    assert "<li>Written by crm_install</li>" in html
    # The core's own widget comes first (order 30 against the default 100).
    assert html.index('data-widget="core.notifications"') < html.index("crm_fixture.latest_notes")
    assert html.index("crm_fixture.latest_notes") < html.index('data-testid="apps"')

    make_user(app, "office", groups=("back_office",))
    assert "crm_fixture.latest_notes" not in logged_in(app, "office").get("/").text

    crm = app.extensions["crm"]
    uninstall(crm.engine, crm.plugins, "crm_fixture_user")
    uninstall(crm.engine, crm.plugins, "crm_fixture")
    answer = admin.get("/")
    assert answer.status_code == 200
    assert "crm_fixture.latest_notes" not in answer.text
    assert 'data-widget="core.notifications"' in answer.text


def test_a_failing_crm_home_widgets_is_left_out_and_the_page_still_opens(app, admin, monkeypatch):
    """A failed statement (which on PostgreSQL spoils the transaction) in one module's widget:
    that module's card is missing, named in a notice; the other cards and the tiles still show."""
    from crm_fixture.plugin import HOME_WIDGET_FAIL_ENV

    monkeypatch.setenv(HOME_WIDGET_FAIL_ENV, "1")
    monkeypatch.delenv("CRM_STRICT_PLUGINS", raising=False)
    answer = admin.get("/")
    assert answer.status_code == 200
    html = answer.text
    assert "crm_fixture.latest_notes" not in html
    assert 'data-testid="failed-widgets"' in html and "(crm_fixture)" in html
    assert 'data-widget="core.notifications"' in html
    assert 'data-menu-id="crm_fixture.notes"' in html and 'data-testid="apps"' in html
