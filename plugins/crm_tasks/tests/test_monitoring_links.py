"""crm_tasks: every figure of the monitoring page links to the task list filtered to the tasks
behind it, and that list counts the same number; the representative × type table; this period
against the previous one in counts. Record rules apply to the figures as to the lists."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select
from tasks_helpers import NOW, session_of

from core.models import Group, PermissionRecord, User
from core.testing import logged_in, make_user
from crm_tasks.models import Task

TODAY = NOW.date()  # 2026-12-01: this quarter is Q4 2026, the previous one Q3


@pytest.fixture(autouse=True)
def _at_now():
    # The machine's clock, moved (not our code patched): "this quarter" is the same every run.
    with time_machine.travel(NOW, tick=False):
        yield


def _tasks(app) -> None:
    ids, types = app.ids, app.types
    q3 = NOW - timedelta(days=80)  # in September
    plan = [
        # (title, assigned to, by, type, status, created, completed, due)
        ("Offer open", ids.maria, ids.georgi, "offer", "assigned", NOW, None, None),
        ("Offer late", ids.maria, ids.georgi, "offer", "in_progress", q3, None,
         TODAY - timedelta(days=3)),
        ("Offer done", ids.maria, ids.maria, "offer", "confirmed", q3, NOW, None),
        ("Offer refused", ids.maria, ids.maria, "offer", "rejected", q3, NOW, None),
        ("Offer done in Q3", ids.maria, ids.maria, "offer", "confirmed", q3, q3, None),
        ("Sample late", ids.peter, ids.georgi, "sample", "assigned", q3, None,
         TODAY - timedelta(days=1)),
        ("Sample refused in Q3", ids.peter, ids.peter, "sample", "rejected", q3, q3, None),
        ("Sample done", ids.peter, ids.peter, "sample", "confirmed", q3, NOW, None),
        ("Untyped, nobody's", None, ids.georgi, None, "assigned", q3, None, None),
        ("Cancelled", ids.peter, ids.peter, "offer", "cancelled", q3, NOW, None),
        # Created after the period's end cannot be open in it: next year's custom period aside.
    ]  # fmt: skip
    with session_of(app) as session:
        for title, to, by, kind, status, created, completed, due in plan:
            session.add(Task(
                title=title, assigned_to_id=to, assigned_by_id=by,
                commitment_type_id=types[kind] if kind else None, status=status,
                created_at=created, completed_at=completed, due_date=due,
            ))  # fmt: skip
        session.commit()


def _figure_links(page: str) -> list[tuple[str, int]]:
    """Every linked number of the page: (the list it opens, the number shown)."""
    return [
        (html.unescape(href), int(number))
        for href, number in re.findall(
            r'<a class="[^"]*" href="(/tasks/all\?[^"]+)"[^>]*>(\d+)</a>', page
        )
    ]


def _total(client, url: str) -> int:
    page = client.get(url)
    assert page.status_code == 200, url
    return int(re.search(r'data-testid="total">(\d+)<', page.text).group(1))


def test_every_figure_opens_the_list_of_its_tasks_with_the_same_count(app):
    _tasks(app)
    georgi = logged_in(app, "georgi")
    for query in ("", "?period=last_quarter", "?figure=overdue", "?figure=previous_rejected"):
        page = georgi.get(f"/tasks/monitoring{query}").text
        links = _figure_links(page)
        assert len(links) >= 20, query
        for url, number in links:
            assert _total(georgi, url) == number, (query, url)

    page = georgi.get("/tasks/monitoring").text
    flat = re.sub(r"<a [^>]*>|</a>", "", page)
    offers = flat[flat.index('data-row="Provide an offer"') :][:1500]
    # This quarter against the last, in counts as well as rates.
    for col, value in (("open", "2"), ("overdue", "1"), ("confirmed", "1"), ("rejected", "1"),
                       ("previous_confirmed", "1"), ("previous_rejected", "0"),
                       ("rate", "50.0 %"), ("previous_rate", "100.0 %")):  # fmt: skip
        assert f'data-col="{col}">{value}<' in offers, col
    untyped = flat[flat.index('data-row="No type"') :][:300]
    assert 'data-col="open">1<' in untyped
    # The overdue offers lead to exactly Maria's late offer.
    overdue = re.search(r'href="([^"]+)" data-figure="overdue">1<', page).group(1)
    listed = georgi.get(html.unescape(overdue)).text
    assert "Offer late" in listed and "Offer open" not in listed
    assert 'data-testid="period-filters"' in listed and "Created by 2026-12-31" in listed

    # The representative × type table: open commitments by default, any figure on demand.
    matrix = flat[flat.index('data-testid="by-representative-and-type"') :]
    maria = matrix[matrix.index('data-row="Maria"') :][:600]
    assert re.search(r'data-col="Provide an offer">2<', maria)
    nobody = matrix[matrix.index('data-row="Nobody"') :][:600]
    assert re.search(r'data-col="No type">1<', nobody)
    confirmed = georgi.get("/tasks/monitoring?figure=confirmed").text
    table = confirmed[confirmed.index('data-testid="by-representative-and-type"') :]
    assert 'data-figure-shown="confirmed"' in table
    peter_cells = re.sub(r"<a [^>]*>|</a>", "", table[table.index('data-row="Peter"') :][:700])
    assert re.search(r'data-col="Develop a sample">1<', peter_cells)
    assert georgi.get("/tasks/monitoring?figure=bogus").status_code == 200


def test_a_representative_monitoring_sees_her_tasks_only_and_the_lists_agree(app):
    """A team lead: a representative given the monitoring permission, still under the
    representatives' record rule (tasks assigned to her or by her)."""
    _tasks(app)
    with session_of(app) as session:
        group = Group(code="team_leads", name="Team leads")
        group.permissions = [session.get(PermissionRecord, "crm_tasks.manage")]
        session.add(group)
        session.commit()
    make_user(app, "lena", groups=("sales_rep", "team_leads"))
    with session_of(app) as session:
        lena = session.scalar(select(User.id).where(User.login == "lena"))
        session.add(Task(title="Lena's offer", assigned_to_id=lena, assigned_by_id=lena,
                         commitment_type_id=app.types["offer"], created_at=NOW))  # fmt: skip
        session.commit()
    client = logged_in(app, "lena")
    page = client.get("/tasks/monitoring").text
    flat = re.sub(r"<a [^>]*>|</a>", "", page)
    total = flat[flat.index('data-testid="by-type"') :]
    total = total[total.index('data-row="Total"') :][:700]
    assert 'data-col="open">1<' in total and 'data-col="confirmed">0<' in total
    assert "Maria" not in flat and "Peter" not in flat
    for url, number in _figure_links(page):
        assert _total(client, url) == number, url
