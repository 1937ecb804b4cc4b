"""Rate limits and the request body limit, on the real endpoints that need them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from config.services import api_token_issue
from config.testing import assert_error
from config.tests.conftest import World
from dialogs.models import Dialog

pytestmark = pytest.mark.django_db


# --- Throttles ---------------------------------------------------------------------------------


def _ingest_utterance(world: World, n: int):
    body = {"conversation_id": str(world.conversation.id), "content": f"Sentence {n}."}
    return world.client("ingest").post("/api/utterances", body, format="json")


def _ingest_dialog(world: World, n: int):
    body = {"text": f"Dialog {n}.", "language": "EN"}
    return world.client("ingest").post(f"/data/c-1/throttled-{n}", body, format="json")


def _join(world: World, n: int):
    return world.client("anonymous").post(
        f"/api/quizzes/{world.quiz.code}/join", {"nickname": f"player{n}"}, format="json"
    )


def _answer(world: World, n: int):
    """Question 1 was served to the participant: one 201, then 409 already_answered (a request
    the throttle still counts: it runs before the view)."""
    question = world.quiz.questions.order_by("order").first()
    body = {"question_id": question.id, "choice_id": question.choices.first().id}
    return world.client("participant").post(
        f"/api/quizzes/{world.quiz.code}/answers", body, format="json"
    )


@pytest.mark.parametrize(
    ("scope", "call", "allowed"),
    [
        ("ingest", _ingest_utterance, {201}),
        ("ingest", _ingest_dialog, {201}),
        ("quiz_join", _join, {201}),
        ("quiz_answer", _answer, {201, 409}),
    ],
    ids=["tutor-ingest", "dialogs-ingest", "quiz-join", "quiz-answer"],
)
def test_throttle_answers_429_with_error_shape_and_retry_after(
    world, throttle_rates, scope, call, allowed
):
    throttle_rates(**{scope: "3/min"})

    statuses = {call(world, n).status_code for n in range(3)}
    throttled = call(world, 3)

    assert statuses <= allowed
    assert_error(throttled, status=429, code="throttled", type="client_error", only=True)
    assert 1 <= int(throttled["Retry-After"]) <= 60


def test_throttle_is_per_caller_not_global(world, throttle_rates):
    throttle_rates(ingest="1/min")
    _ingest_utterance(world, 0)

    other = world.client("ingest")
    token = api_token_issue(username="second-ingest", role="ingest").key
    other.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = other.post(
        "/api/utterances",
        {"conversation_id": str(world.conversation.id), "content": "Another service."},
        format="json",
    )

    assert response.status_code == 201


def test_throttled_write_stores_nothing(world, throttle_rates):
    throttle_rates(ingest="1/min")
    _ingest_dialog(world, 0)

    response = _ingest_dialog(world, 1)

    assert response.status_code == 429
    assert not Dialog.objects.filter(dialog_id="throttled-1").exists()


def test_throttle_rates_come_from_the_environment():
    env = {
        **os.environ,
        "THROTTLE_INGEST": "7/hour",
        "THROTTLE_INGEST_BULK": "6/hour",
        "THROTTLE_QUIZ_JOIN": "8/hour",
        "THROTTLE_QUIZ_ANSWER": "9/hour",
    }
    script = (
        "import django, json; django.setup(); "
        "from config.throttling import ScopedRedisRateThrottle as T; "
        "print(json.dumps(T.THROTTLE_RATES))"  # the class every throttled view uses
    )

    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )

    rates = json.loads(result.stdout.strip().splitlines()[-1])
    assert rates == {
        "ingest": "7/hour",
        "ingest_bulk": "6/hour",
        "quiz_join": "8/hour",
        "quiz_answer": "9/hour",
    }


# --- Body size ---------------------------------------------------------------------------------


def test_dialog_over_the_body_limit_is_413_and_stores_nothing(world, settings):
    text = "x" * (settings.MAX_REQUEST_BODY_BYTES + 1)

    response = world.client("ingest").post(
        "/data/c-1/huge", {"text": text, "language": "EN"}, format="json"
    )

    assert_error(response, status=413, code="payload_too_large", type="client_error", only=True)
    assert not Dialog.objects.filter(dialog_id="huge").exists()


def test_dialog_of_100000_characters_is_stored_whole(world):
    text = ("Grüße, ça va? " * 10_000)[:100_000]  # non-ASCII: 6 bytes each once JSON-escaped

    response = world.client("ingest").post(
        "/data/c-1/long", {"text": text, "language": "EN"}, format="json"
    )

    assert response.status_code == 201, response.content[:300]
    assert Dialog.objects.get(dialog_id="long").text == text


@pytest.mark.parametrize(
    ("actor", "path"),
    [
        ("ingest", "/api/utterances"),
        ("ingest", "/api/users"),
        ("staff", "/api/quizzes"),
        ("anonymous", "/api/quizzes/{code}/join"),
        ("participant", "/api/quizzes/{code}/answers"),
        ("ingest", "/consents/d-1"),
    ],
)
def test_every_write_endpoint_refuses_an_oversized_body(world, settings, actor, path):
    body = json.dumps({"padding": "x" * settings.MAX_REQUEST_BODY_BYTES})

    response = world.client(actor).post(
        path.format(code=world.quiz.code), body, content_type="application/json"
    )

    assert_error(response, status=413, code="payload_too_large", type="client_error", only=True)


def test_body_limit_is_configurable(world, settings):
    settings.MAX_REQUEST_BODY_BYTES = 200

    response = world.client("ingest").post(
        "/data/c-1/small", {"text": "y" * 300, "language": "EN"}, format="json"
    )

    assert_error(response, status=413, code="payload_too_large", type="client_error", only=True)
