"""Data versions (core.data_versions): a table's counter grows with each committed write to it,
whoever wrote it (the ORM, Core through the session, text, another engine), and only then."""

from __future__ import annotations

from sqlalchemy import insert, text

from core.data_versions import pending_writes, versions
from core.db import db_session, make_engine
from core.models import Group, Notification
from core.testing import make_user


def _version(name: str) -> int:
    return versions(db_session, [name])[name]


def test_each_committed_write_grows_its_tables_counter_and_a_rollback_nothing(crm_app_factory):
    app = crm_app_factory()
    user = make_user(app, "vera")
    with app.app_context():
        start_groups, start_notes = _version("core_group"), _version("core_notification")
        db_session.add(Group(code="g1", name="G1"))  # the ORM's flush
        db_session.flush()
        assert pending_writes(db_session) >= {"core_group"}
        assert _version("core_group") == start_groups  # not before the commit
        db_session.commit()
        assert _version("core_group") == start_groups + 1
        assert not pending_writes(db_session)

        db_session.execute(text("UPDATE core_group SET name = 'G one' WHERE code = 'g1'"))
        db_session.execute(insert(Notification).values(user_id=user, text="x", url=""))
        db_session.commit()
        assert _version("core_group") == start_groups + 2
        assert _version("core_notification") == start_notes + 1

        db_session.add(Group(code="g2", name="G2"))
        db_session.flush()
        db_session.rollback()
        assert _version("core_group") == start_groups + 2  # rolled back: nothing grew

    other = make_engine(app.config["DATABASE_URL"])  # another process's engine
    try:
        with other.begin() as connection:
            connection.execute(text("DELETE FROM core_group WHERE code = 'g1'"))
    finally:
        other.dispose()
    with app.app_context():
        assert _version("core_group") == start_groups + 3
