"""schemathesis over /api/v1/openapi.json: every operation of an installation with every module and
demo data, called with an administrator's API token, with generated valid and invalid input.

A run fails on any 5xx and on any answer that does not match the schema the document declares for
it, and reports every operation that failed (not only the first): the document describes what the
API does, and no input gives a server error. Bounded (``EXAMPLES`` per operation and mode, no
deadline) to a few minutes; it runs on SQLite in ``make test`` and again on PostgreSQL when
``CRM_TEST_DATABASE_URL`` is set (``.ci/run``). ``FUZZ_EXAMPLES=50`` digs deeper by hand.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from core.db import db_session
from core.models import User
from core.plugins import call_one
from core.state import current_state
from core.tokens import issue_token

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))
CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.fixture
def fuzzed_app(crm_app_factory, crm_plugins):
    # The bundled modules; the suite's fixture plugins are not part of an installation.
    modules = [n for n, info in crm_plugins.items() if not info.broken and "fixture" not in n]
    app = crm_app_factory(modules)
    with app.app_context():
        state = current_state()
        for module in ("core", *state.installed):
            call_one(state.pm, "crm_demo_data", module, session=db_session, scale=1)
            db_session.commit()
        admin = db_session.query(User).filter_by(login="elena").one()
        _, token = issue_token(db_session, admin, "fuzz")
        db_session.commit()
    return app, {"Authorization": f"Bearer {token}"}


def _first_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text[:400]}"


def _fuzz(operation, mode: GenerationMode, headers: dict[str, str]) -> list[str]:
    """The failures of ``EXAMPLES`` generated calls of ``operation``, every one of them."""
    found: list[str] = []

    @seed(12)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def call(case):
        try:
            case.call_and_validate(headers=headers, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as error:  # schemathesis' FailureGroup
            found.append(_first_line(error))

    try:
        call()
    except Unsatisfiable:
        # Nothing to make invalid (no parameters, no body): the positive run covered it.
        assert mode is GenerationMode.NEGATIVE, operation.label
    except Exception as error:  # the document does not let schemathesis generate input
        found.append(f"cannot generate: {_first_line(error)}")
    return found


@pytest.mark.fuzz
def test_every_api_operation_survives_generated_input(fuzzed_app):
    app, headers = fuzzed_app
    document = app.test_client().get("/api/v1/openapi.json", headers=headers)
    assert document.status_code == 200
    schema = schemathesis.openapi.from_dict(document.get_json())
    schema.app = app
    problems: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()  # an operation the document cannot describe raises here
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            found = _fuzz(operation, mode, headers)
            if found:
                problems.append(f"{operation.label} ({mode.value}): {found[0]}")
    print(f"\nschemathesis: {operations} operations, {len(problems)} with problems")
    assert operations >= 50
    assert not problems, "\n".join(problems)
