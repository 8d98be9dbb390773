"""Maria's journey, step 2: the client file says which competitors are present and what they did
lately in the client's region. Presences follow the client's record rules: a representative sees
none at a client she may not see, in any list, search hit, count or API answer; competitors and
their moves are shared knowledge."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from core.db import db_session
from core.testing import logged_in
from crm_competitors.models import Change, Presence, PresenceGroup


def _record(app):
    ids = app.ids
    with app.app_context():
        presences = [
            Presence(competitor_id=ids.acme, client_id=ids.bioprom, share_percent=Decimal(35),
                     since=date(2025, 3, 1), source="Told by the buyer"),
            Presence(competitor_id=ids.acme, client_id=ids.agrotech, share_percent=Decimal(10)),
            Presence(competitor_id=ids.acme, client_id=ids.coastal, share_percent=Decimal(50)),
        ]  # fmt: skip
        presences[0].group_rows = [PresenceGroup(name="Beverages")]
        north = Change(
            competitor_id=ids.acme,
            kind="price_change",
            percent=Decimal(-10),
            occurred_on=date(2026, 11, 20),
            description="Cut prices in the north",
        )
        south = Change(competitor_id=ids.acme, kind="promotion", occurred_on=date(2026, 11, 25),
                       description="Summer promotion on the coast")  # fmt: skip
        from crm_contacts.models import Region

        north.regions = [db_session.get(Region, ids.north)]
        south.regions = [db_session.get(Region, ids.south)]
        db_session.add_all([*presences, north, south])
        db_session.commit()
        return [p.id for p in presences], north.id, south.id


def test_the_client_file_shows_the_competitors_present_and_the_latest_moves_in_its_region(app):
    presence_ids, north, south = _record(app)
    maria = logged_in(app, "maria")
    page = maria.get(f"/contacts/clients/{app.ids.bioprom}").get_data(as_text=True)
    assert 'id="section-crm_competitors.competitors"' in page
    section = page[page.index('data-testid="client-competitors"') :]
    assert f'data-presence="{presence_ids[0]}"' in section
    assert "Acme Foods" in section and "Beverages" in section and "35.0 %" in section
    assert "Latest moves in North" in section
    assert f'data-change="{north}"' in section and f'data-change="{south}"' not in section
    assert "Price change −10 %" in section


def test_a_representative_sees_no_presence_at_a_client_she_may_not_see(app):
    presence_ids, north, _south = _record(app)
    ids = app.ids
    maria = logged_in(app, "maria")
    mine, peters, ivans = presence_ids

    # Lists and counts.
    listing = maria.get("/competitors/presences").get_data(as_text=True)
    assert f'data-presence="{mine}"' in listing
    assert f'data-presence="{peters}"' not in listing and f'data-presence="{ivans}"' not in listing
    assert 'data-testid="total">1<' in listing
    competitors = maria.get("/competitors/").get_data(as_text=True)
    assert 'data-testid="presences">1<' in competitors
    detail = maria.get(f"/competitors/{ids.acme}").get_data(as_text=True)
    assert 'data-testid="presences-total">1<' in detail
    assert f'data-presence="{peters}"' not in detail
    # Who a move concerns, on its page.
    change = maria.get(f"/competitors/changes/{north}").get_data(as_text=True)
    assert 'data-testid="affected-total">1<' in change
    assert f'data-client="{ids.agrotech}"' not in change
    # One presence by its id: as if it did not exist.
    assert maria.get(f"/competitors/presences/{peters}/edit").status_code == 404
    assert maria.get(f"/api/v1/competitors/presences/{peters}").status_code == 404
    # The API's lists and counts.
    api = maria.get("/api/v1/competitors/presences").get_json()
    assert [p["id"] for p in api["items"]] == [mine] and api["meta"]["total"] == 1
    assert maria.get(f"/api/v1/competitors/changes/{north}").get_json()["affected_total"] == 1
    # Search: the competitor and its moves are shared; no hit tells of a presence.
    hits = maria.get("/search?q=acme").get_data(as_text=True)
    assert "Acme Foods" in hits and "Agrotech" not in hits
    # Recording one at a client she may not see is refused as if the client did not exist.
    refused = maria.post(
        "/api/v1/competitors/presences", json={"competitor_id": ids.acme, "client_id": ids.agrotech}
    )
    assert refused.status_code == 400
    assert refused.get_json()["errors"]["client_id"] == ["No such client among those you may see."]

    # The manager sees them all.
    georgi = logged_in(app, "georgi")
    assert georgi.get("/api/v1/competitors/presences").get_json()["meta"]["total"] == 3
    assert 'data-testid="presences">3<' in georgi.get("/competitors/").get_data(as_text=True)


def test_competitors_and_their_moves_are_shared_knowledge(app):
    _presence_ids, north, south = _record(app)
    ivan = logged_in(app, "ivan")  # his only client is in the south
    timeline = ivan.get(f"/competitors/{app.ids.acme}").get_data(as_text=True)
    assert f'data-change="{north}"' in timeline and f'data-change="{south}"' in timeline
    recent = ivan.get("/competitors/changes").get_data(as_text=True)
    assert f'data-change="{north}"' in recent
    assert len(ivan.get("/api/v1/competitors/changes").get_json()["items"]) == 2
