"""Declarative ownership (``ModelDef(..., owned_by="client_id")``): a record that belongs to a
client, or to any record with record rules, follows its parent's rules in every ORM query of a
request, through chains of owners; ``can_see`` answers for one record."""

from __future__ import annotations

import pytest
from sqlalchemy import case, delete, func, select, update

from core.db import db_session
from core.record_rules import RuleUser, activate, can_see, criteria_for, with_owners
from core.registry import ModelDef, ModelRegistry
from core.state import current_state
from core.testing import logged_in, make_user


@pytest.fixture
def app(crm_app_factory):
    app = crm_app_factory(["crm_contacts", "crm_tasks"])
    ids = {
        "maria": make_user(app, "maria", groups=("sales_rep",)),
        "peter": make_user(app, "peter", groups=("sales_rep",)),
        "georgi": make_user(app, "georgi", groups=("sales_manager",)),
    }
    with app.app_context():
        from crm_contacts.models import Client, Person
        from crm_tasks.models import Task, Transition

        mine = Client(name="Mine Ltd", responsible_id=ids["maria"])
        hidden = Client(name="Hidden Ltd", responsible_id=ids["peter"])
        mine.persons = [Person(name="Anna Mine")]
        hidden.persons = [Person(name="Boris Hidden")]
        peters = Task(title="Peter's task", client=hidden, assigned_to_id=ids["peter"])
        peters.transitions = [Transition(from_status="", to_status="assigned")]
        marias = Task(title="Maria's task", client=mine, assigned_to_id=ids["maria"])
        marias.transitions = [Transition(from_status="", to_status="assigned")]
        # A task about no client, assigned to Maria: its transition follows the task only.
        loose = Task(title="Loose task", client=None, assigned_to_id=ids["maria"])
        loose.transitions = [Transition(from_status="", to_status="assigned")]
        db_session.add_all([mine, hidden, peters, marias, loose])
        db_session.commit()
        ids.update(
            hidden=hidden.id,
            mine=mine.id,
            hidden_person=hidden.persons[0].id,
            mine_person=mine.persons[0].id,
            peters_transition=peters.transitions[0].id,
            marias_transition=marias.transitions[0].id,
            loose_transition=loose.transitions[0].id,
        )
    app.ids = ids
    return app


def _as(app, login, groups=("sales_rep",)):
    """A request context in which ``login``'s rules are in force, as the request gate sets them."""
    context = app.test_request_context("/")
    context.push()
    activate(current_state().enabled_record_rules, RuleUser(app.ids[login], frozenset(groups)))
    return context


def test_a_child_follows_its_parents_rules_in_every_kind_of_query(app):
    from crm_contacts.models import Client, Person

    context = _as(app, "maria")
    try:
        names = db_session.scalars(select(Person.name).order_by(Person.name)).all()
        assert names == ["Anna Mine"]
        assert db_session.scalar(select(func.count(Person.id))) == 1
        joined = db_session.execute(select(Client.name, Person.name).join(Person.client)).all()
        assert joined == [("Mine Ltd", "Anna Mine")]
        # The rules hold for writes too: an UPDATE or DELETE of a hidden child touches nothing.
        hidden = app.ids["hidden_person"]
        db_session.execute(update(Person).where(Person.id == hidden).values(name="Hacked"))
        db_session.execute(delete(Person).where(Person.id == hidden))
        db_session.commit()
    finally:
        context.pop()
    with app.app_context():
        assert db_session.get(Person, app.ids["hidden_person"]).name == "Boris Hidden"


def test_counts_and_sums_that_name_no_entity_obey_the_rules_too(app):
    """An aggregate of expressions, or a SELECT on the table itself, gives the figure of the rows
    the user may see: the count agrees with the list."""
    from crm_contacts.models import Client, Person

    context = _as(app, "maria")
    try:
        named = case((Person.name.is_not(None), 1), else_=0)
        assert db_session.scalar(select(func.coalesce(func.sum(named), 0))) == 1
        assert db_session.scalar(select(func.count()).select_from(Person.__table__)) == 1
        clients = Client.__table__
        joined = select(func.count()).select_from(
            Person.__table__.join(clients, clients.c.id == Person.__table__.c.client_id)
        )
        assert db_session.scalar(joined) == 1
        everything = select(func.count()).select_from(Person.__table__)
        assert db_session.scalar(everything.execution_options(crm_all_records=True)) == 2
    finally:
        context.pop()


def test_a_child_of_a_record_with_rules_of_its_own_follows_them(app):
    """A task transition belongs to a task, whose rule is "assigned to or by me", not the
    client's: the transition follows the task's rule."""
    from crm_tasks.models import Transition

    context = _as(app, "maria")
    try:
        seen = set(db_session.scalars(select(Transition.id)))
    finally:
        context.pop()
    assert seen == {app.ids["marias_transition"], app.ids["loose_transition"]}


def test_chains_of_owners_apply_every_parents_rules(app):
    """Were tasks owned by their client, a transition (owned by its task) would follow the
    task's rule AND the client's; a task with no client follows no client rule."""
    from crm_contacts.models import Client
    from crm_tasks.models import Task, Transition

    registry = ModelRegistry()
    registry.add("crm_contacts", Client)
    registry.add("crm_tasks", ModelDef(Task, owned_by="client_id"))
    registry.add("crm_tasks", ModelDef(Transition, owned_by="task_id"))
    with app.test_request_context("/"):
        state = current_state()
        rules = [r for r in state.enabled_record_rules if r.model is Client]
        user = RuleUser(app.ids["maria"], frozenset({"sales_rep"}))
        from flask import g

        g.crm_record_criteria = with_owners(criteria_for(rules, user), registry)
        seen = set(db_session.scalars(select(Transition.id)))
    # Peter's task's transition is on a client Maria may not see; the loose task has no client.
    assert seen == {app.ids["marias_transition"], app.ids["loose_transition"]}


def test_managers_are_not_restricted_by_ownership(app):
    from crm_contacts.models import Person

    context = _as(app, "georgi", groups=("sales_manager",))
    try:
        assert db_session.scalar(select(func.count(Person.id))) == 2
    finally:
        context.pop()


def test_can_see_answers_for_one_record_whatever_the_identity_map_holds(app):
    from crm_contacts.models import Person

    context = _as(app, "maria")
    try:
        # Loaded without the rules first: the identity map now holds it, can_see must not care.
        hidden = db_session.scalar(
            select(Person)
            .where(Person.id == app.ids["hidden_person"])
            .execution_options(crm_all_records=True)
        )
        assert hidden is not None
        assert not can_see(db_session, Person, app.ids["hidden_person"])
        assert can_see(db_session, Person, app.ids["mine_person"])
        assert can_see(db_session, "crm_contacts_person", str(app.ids["mine_person"]))
        assert not can_see(db_session, "crm_contacts_person", "abc")
        assert not can_see(db_session, "crm_contacts_person", 2**70)
        assert not can_see(db_session, "no_such_model", 1)
        assert not can_see(db_session, Person, 999_999)
    finally:
        context.pop()


def test_a_contact_person_of_a_hidden_client_is_hidden_from_the_api(app):
    maria = logged_in(app, "maria")
    assert maria.get(f"/api/v1/persons/{app.ids['mine_person']}").status_code == 200
    assert maria.get(f"/api/v1/persons/{app.ids['hidden_person']}").status_code == 404
    response = maria.patch(f"/api/v1/persons/{app.ids['hidden_person']}", json={"name": "X"})
    assert response.status_code == 404


def test_owned_by_must_name_a_foreign_key():
    from crm_contacts.models import Person

    with pytest.raises(ValueError, match="no column 'nope'"):
        ModelRegistry().add("crm_contacts", ModelDef(Person, owned_by="nope"))
    with pytest.raises(ValueError, match="one foreign key"):
        ModelRegistry().add("crm_contacts", ModelDef(Person, owned_by="name"))
