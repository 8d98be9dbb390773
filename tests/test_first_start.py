"""A first start that explains itself (issue 13, point 10): the CLI before ``crm init``, the
administrator's setup checklist, the favicon."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from core.testing import logged_in, make_user


def test_a_command_before_init_explains_itself_in_one_line(tmp_path):
    crm = Path(sys.executable).with_name("crm")
    env = {"PATH": str(crm.parent), "CRM_INSTANCE_PATH": str(tmp_path / "instance")}
    result = subprocess.run(
        [str(crm), "module", "list"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "run `crm init` first" in lines[0] and str(tmp_path / "instance") in lines[0]


def test_the_administrators_empty_home_shows_a_setup_checklist(crm_app_factory):
    app = crm_app_factory([])
    make_user(app, "root", groups=("admin",))
    page = logged_in(app, "root").get("/").get_data(as_text=True)
    assert 'data-testid="setup-checklist"' in page
    assert "Install the modules your company needs" in page
    assert "Create the users and put them in groups" in page

    # Once modules are installed and users exist, the checklist steps aside.
    app = crm_app_factory(["crm_contacts"])
    make_user(app, "root", groups=("admin",))
    root = logged_in(app, "root")
    page = root.get("/").get_data(as_text=True)
    assert "Import clients: bring in your data" in page  # the module's import page, from its menu
    make_user(app, "maria", groups=("sales_rep",))
    assert 'data-testid="setup-checklist"' not in root.get("/").get_data(as_text=True)
    # A representative never sees it.
    assert 'data-testid="setup-checklist"' not in logged_in(app, "maria").get("/").get_data(
        as_text=True
    )


def test_a_favicon(crm_app):
    client = crm_app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    assert re.search(r'rel="icon" href="/static/favicon\.svg\?v=[0-9a-f]{12}"', login_page)
    with client.get("/static/favicon.svg") as icon:
        assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert "/static/favicon.svg?v=" in client.get("/favicon.ico").headers["Location"]


def test_the_uninstall_preview_counts_records_in_words(crm_app_factory):
    """ "14 pricing rules", not "crm_pricing_rule 14" (issue 13, point 8)."""
    app = crm_app_factory(["crm_contacts"])
    make_user(app, "root", groups=("admin",))
    root = logged_in(app, "root")
    for name in ("Bioprom", "Agrotech"):
        assert root.post("/contacts/clients/new", data={"name": name}).status_code == 302
    page = root.get("/apps/crm_contacts/uninstall").get_data(as_text=True)
    assert "<td>2 clients</td>" in page
    assert "<td>0 contacts</td>" in page
