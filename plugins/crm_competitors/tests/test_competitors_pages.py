"""crm_competitors' pages: a competitor's form and page (timeline filters, attachments, history),
recording a presence from the client file and ending it, the lists, permissions, demo data."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from core.cli import main as crm
from core.db import db_session
from core.models import AuditEntry
from core.testing import form_fields, logged_in
from crm_competitors.models import Change, Competitor, Presence
from crm_contacts.models import Client, Region


def test_a_competitor_is_recorded_edited_and_its_history_kept(app):
    georgi = logged_in(app, "georgi")
    form = georgi.get("/competitors/new").get_data(as_text=True)
    assert "North" in form and 'name="groups"' in form
    created = georgi.post(
        "/competitors/new",
        data={"name": "Metro Trade", "website": "https://metro.example", "country": "RO",
              "price_position": "dearer", "status": "active", "region_ids": [str(app.ids.south)],
              "groups": "Beverages", "strengths": "Brands", "weaknesses": "Prices"},
    )  # fmt: skip
    assert created.status_code == 302
    url = created.headers["Location"]
    page = georgi.get(url).get_data(as_text=True)
    assert "Metro Trade" in page and "Dearer" in page and "South" in page
    assert 'data-testid="attachments"' in page and 'data-testid="history"' in page
    edit_url = url + "/edit"
    fields = form_fields(georgi.get(edit_url).get_data(as_text=True), action=edit_url)
    fields["status"] = "left"
    assert georgi.post(edit_url, data=fields).status_code == 302
    with app.app_context():
        competitor = db_session.scalar(select(Competitor).where(Competitor.name == "Metro Trade"))
        assert competitor.status == "left" and competitor.groups == ["Beverages"]
        changed = db_session.scalars(
            select(AuditEntry.field).where(
                AuditEntry.model == "crm_competitors_competitor",
                AuditEntry.record_id == str(competitor.id),
                AuditEntry.action == "update",
            )
        ).all()
        assert changed == ["status"]
    # Stale version: refused, nothing lost.
    assert georgi.post(edit_url, data=fields).status_code == 409


def test_a_presence_is_added_from_the_client_file_and_ended_without_disappearing(app):
    ids = app.ids
    maria = logged_in(app, "maria")
    file = maria.get(f"/contacts/clients/{ids.bioprom}").get_data(as_text=True)
    add = f"/competitors/presences/new?client_id={ids.bioprom}&amp;next=client"
    assert add in file
    form = maria.get(add.replace("&amp;", "&")).get_data(as_text=True)
    # Record fields are pickers holding the current value.
    assert re.search(r'name="client_id"\s+data-picker="crm_contacts_client"', form)
    assert f'<option value="{ids.bioprom}" selected>Bioprom</option>' in form
    assert re.search(r'name="competitor_id"\s+data-picker="crm_competitors_competitor"', form)
    found = maria.get("/api/v1/lookup/crm_competitors_competitor?q=acm").get_json()
    assert [(i["id"], i["label"]) for i in found["items"]] == [(ids.acme, "Acme Foods")]
    saved = maria.post(
        "/competitors/presences/new",
        data={"competitor_id": str(ids.acme), "client_id": str(ids.bioprom), "next": "client",
              "groups": "Beverages", "share_percent": "25", "since": "2026-01-01",
              "source": "Told by the buyer"},
    )  # fmt: skip
    assert saved.status_code == 302
    assert saved.headers["Location"].endswith(f"/contacts/clients/{ids.bioprom}")
    with app.app_context():
        presence = db_session.scalar(select(Presence))
        assert presence.recorded_by_id == ids.maria and presence.share_percent == Decimal("25.00")
    edit = f"/competitors/presences/{presence.id}/edit"
    fields = form_fields(maria.get(edit).get_data(as_text=True), action=edit)
    fields["until"] = "2026-11-15"
    assert maria.post(edit, data=fields).status_code == 302
    file = maria.get(f"/contacts/clients/{ids.bioprom}").get_data(as_text=True)
    assert 'data-testid="no-competitors"' in file  # ended: no longer present
    ended = maria.get(f"/competitors/presences?client={ids.bioprom}&state=all")
    assert f'data-presence="{presence.id}"' in ended.get_data(as_text=True)
    detail = maria.get(f"/competitors/{ids.acme}?presences=ended").get_data(as_text=True)
    assert f'data-presence="{presence.id}"' in detail


def test_the_timeline_filters_by_kind_and_region_newest_first(app):
    ids = app.ids
    with app.app_context():
        north, south = db_session.get(Region, ids.north), db_session.get(Region, ids.south)
        rows = [
            Change(competitor_id=ids.acme, kind="promotion", occurred_on=date(2026, 1, 5),
                   description="Old promotion", regions=[north]),
            Change(competitor_id=ids.acme, kind="price_change", percent=Decimal(5),
                   occurred_on=date(2026, 6, 1), description="Rise", regions=[south]),
            Change(competitor_id=ids.acme, kind="promotion", occurred_on=date(2026, 9, 1),
                   description="New promotion", regions=[north]),
        ]  # fmt: skip
        db_session.add_all(rows)
        db_session.commit()
        old, rise, new = (c.id for c in rows)
        assert rows[1].quarter == "2026-Q2"
    ivan = logged_in(app, "ivan")
    page = ivan.get(f"/competitors/{ids.acme}").get_data(as_text=True)
    assert (
        page.index(f'data-change="{new}"')
        < page.index(f'data-change="{rise}"')
        < page.index(f'data-change="{old}"')
    )
    assert "Price change +5 %" in page
    only = ivan.get(f"/competitors/{ids.acme}?kind=promotion&region={ids.north}").get_data(
        as_text=True
    )
    assert f'data-change="{new}"' in only and f'data-change="{old}"' in only
    assert f'data-change="{rise}"' not in only
    recent = ivan.get("/competitors/changes?days=0&kind=price_change").get_data(as_text=True)
    assert f'data-change="{rise}"' in recent and f'data-change="{new}"' not in recent


def test_permissions_back_office_reads_and_only_managers_delete(app):
    ids = app.ids
    from core.testing import make_user

    make_user(app, "bo", groups=("back_office",))
    back_office = logged_in(app, "bo")
    assert back_office.get("/competitors/").status_code == 200
    assert back_office.get("/competitors/new").status_code == 403
    maria = logged_in(app, "maria")
    assert maria.get(f"/competitors/{ids.acme}/delete").status_code == 403
    georgi = logged_in(app, "georgi")
    confirm = georgi.get(f"/competitors/{ids.acme}/delete").get_data(as_text=True)
    assert "Yes, delete Acme Foods" in confirm
    fields = form_fields(confirm, action=f"/competitors/{ids.acme}/delete")
    assert georgi.post(f"/competitors/{ids.acme}/delete", data=fields).status_code == 302
    assert georgi.get(f"/competitors/{ids.acme}").status_code == 404


def test_demo_data_spreads_competitors_presences_and_two_years_of_moves(crm_app_factory, clock):
    app = crm_app_factory(["crm_competitors"])
    runner = app.test_cli_runner()
    result = runner.invoke(crm, ["demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert 4 <= db_session.scalar(select(func.count(Region.id))) <= 6
        assert (
            db_session.scalar(select(func.count(Client.id)).where(Client.region_id.is_(None))) == 0
        )
        assert 5 <= db_session.scalar(select(func.count(Competitor.id))) <= 8
        clients = db_session.scalar(select(func.count(Client.id)))
        present = db_session.scalar(select(func.count(func.distinct(Presence.client_id))))
        assert abs(present - clients / 3) <= 1
        first, last = db_session.execute(
            select(func.min(Change.occurred_on), func.max(Change.occurred_on))
        ).one()
        assert (last - first).days > 600
        count = db_session.scalar(select(func.count(Change.id)))
    assert runner.invoke(crm, ["demo"]).exit_code == 0
    with app.app_context():
        assert db_session.scalar(select(func.count(Change.id))) == count  # added once
