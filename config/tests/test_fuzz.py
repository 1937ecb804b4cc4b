"""Schemathesis fuzzes every operation of /api/schema, once per role.

Each run sends one credential (see `role_headers`): none, a service role's token, the world's
participant's token, or a superuser's. Every response must be a non-5xx that the schema
documents: status code, content type and body. Two tests: each operation alone
(`test_api_conforms_to_its_schema`), and chains of calls along the schema's OpenAPI links
(`test_api_workflows_conform_to_its_schema`). Each example (a scenario, for the chains) runs in
a savepoint that is rolled back afterwards, so every example sees the same world (see
conftest.py) and Hypothesis can replay and shrink a failure deterministically.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.services import api_token_issue
from config.tests.conftest import World
from tutor.models import Exercise

pytestmark = pytest.mark.slow

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# The participant and the superuser between them may call every operation: the full budget.
DEEP_ROLES = ("participant", "superuser")
NARROW_ROLES = ("anonymous", "ingest", "analyst", "staff")
ROLES = DEEP_ROLES + NARROW_ROLES
# Generous rates: the fuzzer should reach the views; test_limits.py covers the 429s themselves.
FUZZ_RATES = {"ingest": "100000/min", "quiz_join": "100000/min", "quiz_answer": "100000/min"}
HYPOTHESIS: dict[str, Any] = {
    "deadline": None,
    "database": None,  # a failure prints a curl line to reproduce it; no example files needed
    # The fixtures are built once per operation; that is safe because every example is rolled
    # back to the same state (below).
    "suppress_health_check": [
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
}
STATEFUL_SETTINGS = {"max_examples": 80, "stateful_step_count": 6, "database": None}


class _Rollback(Exception):
    pass


@pytest.fixture
def _wsgi_in_test_transaction() -> Iterator[None]:
    """The WSGI handler closes "old" connections around each request, which would end the test's
    transaction; Django's own test client disconnects the same receivers for the same reason."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(params=ROLES)
def role_headers(request, world: World, throttle_rates, _wsgi_in_test_transaction) -> dict:
    """The one credential every request of this run sends: a role's service token, the world's
    participant's bearer token, a superuser's token, or none at all."""
    throttle_rates(**FUZZ_RATES)
    role = request.param
    if role == "superuser":
        token = api_token_issue(username="fuzz-root", role="staff")
        token.user.is_superuser = True
        token.user.save(update_fields=["is_superuser"])
        return {"Authorization": f"Token {token.key}"}
    return (
        {"Authorization": world.headers[role]["HTTP_AUTHORIZATION"]} if role != "anonymous" else {}
    )


# Loaded at collection (no database needed): one test per operation, each with its own world.
schema = schemathesis.openapi.from_wsgi("/api/schema?format=json", get_wsgi_application())


def _real_values(world: World) -> dict[str, Any]:
    question = world.quiz.questions.order_by("order").first()  # served to the participant
    return {
        "code": world.quiz.code,
        "user_id": str(world.learner.id),
        "conversation_id": str(world.conversation.id),
        "utterance_id": str(world.utterance.id),
        "customerId": world.dialog.customer_id,
        "dialogId": world.dialog.dialog_id,
        "language": "EN",
        "question_id": question.id,
        "choice_id": question.choices.get(correct=True).id,
        "errorCategory": "Grammar",
        "errorSubCategory": "Tense",
        "exercise_id": Exercise.objects.order_by("id").values_list("id", flat=True).first(),
    }


def _realistic(value: Any, real: dict[str, Any]) -> Any:
    """About half the generated ids and labels become the world's real ones, so the fuzzer gets
    past the 404s and unknown ids into the views' real work. Which half is decided by the
    generated value itself, so an example replays identically when Hypothesis shrinks it."""
    if isinstance(value, list):
        return [_realistic(item, real) for item in value]
    if not isinstance(value, dict):
        return value
    return {
        name: real[name] if name in real and len(str(item)) % 2 == 0 else _realistic(item, real)
        for name, item in value.items()
    }


@schema.parametrize()
@pytest.mark.parametrize("role_headers", DEEP_ROLES, indirect=True)
@settings(max_examples=50, **HYPOTHESIS)
def test_api_conforms_to_its_schema(case, world, role_headers):
    _call_and_validate(case, world, role_headers)


@schema.parametrize()
@pytest.mark.parametrize("role_headers", NARROW_ROLES, indirect=True)
@settings(max_examples=15, **HYPOTHESIS)
def test_api_conforms_to_its_schema_for_narrow_roles(case, world, role_headers):
    """Fewer examples: these roles reach the same views as the superuser, or stop at 401/403."""
    _call_and_validate(case, world, role_headers)


def _call_and_validate(case: Any, world: World, role_headers: dict[str, str]) -> None:
    _make_realistic(case, _real_values(world))
    try:
        with transaction.atomic():
            case.call_and_validate(headers=role_headers, checks=CHECKS)
            raise _Rollback
    except _Rollback:
        pass


def test_api_workflows_conform_to_its_schema(world, role_headers):
    """Stateful: scenarios start at any operation and follow the schema's links (config/openapi.py)
    with the ids the responses really gave: a user created, then its conversation, an utterance
    in it, errors of that; a dialog stored, consented, read, erased; a quiz joined, its question
    served, answered. Each scenario runs in a savepoint rolled back at its end."""
    workflow = _workflow(_real_values(world), role_headers)

    workflow.run(settings=settings(workflow.TestCase.settings, **STATEFUL_SETTINGS))


def _workflow(real: dict[str, Any], role_headers: dict[str, str]) -> type:
    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            self.savepoint = transaction.atomic()
            self.savepoint.__enter__()
            self.issued: set[str] = set()  # participant tokens that join gave in this scenario

        def teardown(self) -> None:
            transaction.set_rollback(True)
            self.savepoint.__exit__(None, None, None)

        def step(self, input: Any) -> Any:
            # Values a link fed in are real already; the others may become the world's.
            linked = {name for _, name in input.applied_parameters}
            _make_realistic(input.case, {k: v for k, v in real.items() if k not in linked})
            return super().step(input)

        def before_call(self, case: Any) -> None:
            """The role's credential, except where a link passes on a token that join issued."""
            headers = {
                k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"
            }
            passed_on = (case.headers or {}).get("Authorization")
            case.headers = {
                **headers,
                **({"Authorization": passed_on} if passed_on in self.issued else role_headers),
            }

        def after_call(self, response: Any, case: Any) -> None:
            try:
                body = response.json()
            except ValueError:
                body = None
            if response.status_code in (200, 201) and isinstance(body, dict) and "token" in body:
                self.issued.add(f"Bearer {body['token']}")

        def validate_response(self, response: Any, case: Any, *args: Any, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS)

    return Workflow


def _make_realistic(case: Any, real: dict[str, Any]) -> None:
    case.path_parameters = _realistic(case.path_parameters or {}, real)
    case.query = _realistic(case.query, real)
    case.body = _realistic(case.body, real)
