"""A GET request's transaction on PostgreSQL ends with COMMIT when it wrote nothing, so that
psycopg keeps its prepared statements and the server plans a page's statements once, not at every
request (``core.db.end_read_transaction``). Whatever a GET wrote or left pending without
committing is rolled back as before, on every database."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select, text

from core.db import db_session
from core.models import Group
from core.permissions import PUBLIC, permission_required


def _add_route(app, rule: str, view) -> None:
    view.crm_permission = PUBLIC
    app.add_url_rule(rule, view.__name__, permission_required(PUBLIC)(view))


@pytest.fixture
def app(crm_app_factory):
    app = crm_app_factory()

    def read():
        return str(db_session.scalar(select(Group.id).where(Group.code == "nobody")))

    def write_orm():
        db_session.add(Group(code="orm", name="Flushed"))
        db_session.flush()
        return "ok"

    def write_text():
        db_session.execute(text("UPDATE core_group SET name = 'Changed' WHERE code = 'kept'"))
        return "ok"

    def leave_pending():
        db_session.add(Group(code="pending", name="Pending"))
        return "ok"

    def prepared():
        found = db_session.scalar(text("SELECT count(*) FROM pg_prepared_statements"))
        return str(found)

    for view in (read, write_orm, write_text, leave_pending, prepared):
        _add_route(app, f"/_test/{view.__name__}", view)
    with app.app_context():
        db_session.add(Group(code="kept", name="Kept"))
        db_session.commit()
    return app


def _ends(app) -> list[str]:
    """How each transaction of the app's engine ends, in order."""
    ends: list[str] = []
    engine = app.extensions["crm"].engine
    event.listen(engine, "commit", lambda _c: ends.append("commit"))
    event.listen(engine, "rollback", lambda _c: ends.append("rollback"))
    return ends


def test_what_a_get_wrote_without_committing_is_rolled_back(app):
    http = app.test_client()
    ends = _ends(app)
    for path in ("/_test/write_orm", "/_test/write_text", "/_test/leave_pending"):
        assert http.get(path).status_code == 200
    assert "commit" not in ends
    with app.app_context():
        codes = set(db_session.scalars(select(Group.code)))
        assert "orm" not in codes and "pending" not in codes
        name = db_session.scalar(select(Group.name).where(Group.code == "kept"))
        assert name == "Kept"


def test_a_get_that_only_read_commits_on_postgresql_and_keeps_its_prepared_statements(app):
    if app.extensions["crm"].engine.dialect.name != "postgresql":
        pytest.skip("psycopg's prepared statements")
    http = app.test_client()
    ends = _ends(app)
    for _ in range(6):  # psycopg prepares a statement at its fifth run on a connection
        assert http.get("/_test/read").text == "None"
    assert ends[-6:] == ["commit"] * 6
    # The next request sees the read's statement still prepared on the (one) pooled connection.
    assert int(http.get("/_test/prepared").text) >= 1
    assert http.post("/_test/read").status_code == 405  # only GET, HEAD, OPTIONS: untouched


def test_a_statement_with_a_pattern_is_planned_for_its_values_every_time(app):
    """A ``LIKE`` pattern's selectivity decides its plan: such statements are never prepared
    (a generic plan of the client search took 240 ms for two letters at 100,000 clients)."""
    engine = app.extensions["crm"].engine
    if engine.dialect.name != "postgresql":
        pytest.skip("psycopg's prepared statements")
    with engine.connect() as connection:
        for _ in range(6):
            connection.execute(select(Group.id).where(Group.name.contains("ep")))
            connection.execute(select(Group.id).where(Group.code == "kept"))
        prepared = connection.execute(text("SELECT statement FROM pg_prepared_statements"))
        statements = [row[0] for row in prepared]
    assert any("core_group.code = $1" in s for s in statements), statements
    assert not any("LIKE" in s for s in statements), statements
