"""Schemathesis fuzzes every operation of /api/schema with valid credentials.

Every response must be a non-5xx that the schema documents: status code, content type and body.
Each example runs in a savepoint that is rolled back afterwards, so every example sees the same
world (see conftest.py) and Hypothesis can replay and shrink a failure deterministically.
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

pytestmark = pytest.mark.slow

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Generous rates: the fuzzer should reach the views; test_limits.py covers the 429s themselves.
FUZZ_RATES = {"ingest": "100000/min", "quiz_join": "100000/min", "quiz_answer": "100000/min"}


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


@pytest.fixture
def fuzz_headers(
    world: World, throttle_rates, _wsgi_in_test_transaction
) -> dict[str, dict[str, str]]:
    """A superuser passes every role; participant operations get the real participant's token."""
    throttle_rates(**FUZZ_RATES)
    token = api_token_issue(username="fuzz-root", role="staff")
    token.user.is_superuser = True
    token.user.save(update_fields=["is_superuser"])
    participant = world.headers["participant"]["HTTP_AUTHORIZATION"]
    return {
        "tokenAuth": {"Authorization": f"Token {token.key}"},
        "participantToken": {"Authorization": participant},
    }


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


def _headers(case: Any, fuzz_headers: dict[str, dict[str, str]]) -> dict[str, str]:
    requirements = case.operation.definition.raw.get("security", [])
    schemes = {name for requirement in requirements for name in requirement}
    if "participantToken" not in schemes:
        return fuzz_headers["tokenAuth"]
    if {} in requirements and len(repr(case.body)) % 2:
        return {}  # optional participant auth (join, leaderboard): sometimes anonymous
    return fuzz_headers["participantToken"]


@schema.parametrize()
@settings(
    max_examples=50,
    deadline=None,
    database=None,  # a failure prints a curl line to reproduce it; no example files needed
    # The fixtures are built once per operation; that is safe because every example is rolled
    # back to the same state (below).
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_api_conforms_to_its_schema(case, world, fuzz_headers):
    real = _real_values(world)
    case.path_parameters = _realistic(case.path_parameters or {}, real)
    case.query = _realistic(case.query, real)
    case.body = _realistic(case.body, real)
    headers = _headers(case, fuzz_headers)

    try:
        with transaction.atomic():
            case.call_and_validate(headers=headers, checks=CHECKS)
            raise _Rollback
    except _Rollback:
        pass
