"""Who may call what: every endpoint against every kind of caller, with the status each gets.

One row per endpoint (the path as the OpenAPI schema spells it), one column per actor. Each cell
runs in a savepoint that is rolled back, so a successful DELETE in one cell can't change another.
The right actor sends a valid body and really succeeds; personal data (utterance text, dialog
text, a learner's email) appears in a response only on a 2xx of a row that is meant to show it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator

from config.tests.conftest import ACTORS, DIALOG_TEXT, UTTERANCE_TEXT, World

pytestmark = pytest.mark.django_db

GRAMMAR_TENSE = {"errorCategory": "Grammar", "errorSubCategory": "Tense"}
EXERCISE_ID = 1  # from fixtures/tutor_2_exercises.json
PERSONAL = (UTTERANCE_TEXT, DIALOG_TEXT, "ada@example.com")
# Not part of the API or pages: Django's admin and DRF's browsable-API login have their own auth.
UNLISTED_PREFIXES = ("admin/", "api-auth/", "_nested_admin/")


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    expect: tuple[int, ...]  # one status per actor, in ACTORS order
    reveals: bool = False  # a 2xx body legitimately holds personal data
    query: str = ""
    params: dict[str, str] = field(default_factory=dict)  # path params other than the world's
    json_body: bool = True  # a POST/PATCH that reads a JSON body (a hosted game's moves don't)


# A hosted game's moves on the world's (self-paced) quiz: only staff get past auth, to a 409.
STAFF_409 = (401, 403, 403, 409, 401, 401)

# fmt: off
TABLE = [
    # method    path                                       anon ingest anal staff part other
    # tutor: ingest writes, analyst reads
    Row("POST",   "/api/users",                           (401, 201, 403, 403, 401, 401)),
    Row("GET",    "/api/users/{user_id}",                 (401, 403, 200, 403, 401, 401),
        reveals=True),
    Row("POST",   "/api/conversations",                   (401, 201, 403, 403, 401, 401)),
    Row("POST",   "/api/utterances",                      (401, 201, 403, 403, 401, 401)),
    Row("POST",   "/api/utterances/bulk",                 (401, 200, 403, 403, 401, 401)),
    Row("POST",   "/api/utterances/{utterance_id}/errors",(401, 201, 403, 403, 401, 401)),
    Row("POST",   "/api/errors",                          (401, 201, 403, 403, 401, 401)),
    Row("GET",    "/api/generate-exercise",               (401, 403, 200, 403, 401, 401),
        query="user_id={user_id}"),
    Row("POST",   "/api/exercise-attempts",               (401, 201, 403, 403, 401, 401)),
    Row("GET",    "/api/users/{user_id}/attempts",        (401, 403, 200, 403, 401, 401)),
    Row("GET",    "/api/users/{user_id}/progress",        (401, 403, 200, 403, 401, 401)),
    Row("PUT",    "/api/users/{user_id}/level",           (401, 200, 403, 403, 401, 401)),
    Row("GET",    "/api/exercises/{exercise_id}",         (401, 403, 200, 403, 401, 401)),
    # dialogs: ingest writes, analyst reads consented dialogs
    Row("GET",    "/data",                                (401, 403, 200, 403, 401, 401),
        reveals=True),
    Row("POST",   "/data/{customerId}/{dialogId}",        (401, 201, 403, 403, 401, 401),
        params={"dialogId": "d-new"}),
    Row("GET",    "/data/{customerId}/{dialogId}",        (401, 403, 200, 403, 401, 401),
        reveals=True),
    Row("DELETE", "/data/{customerId}/{dialogId}",        (401, 204, 403, 403, 401, 401)),
    Row("DELETE", "/data/{customerId}",                   (401, 200, 403, 403, 401, 401)),
    Row("POST",   "/consents/{dialogId}",                 (401, 200, 403, 403, 401, 401),
        reveals=True),
    # quizzes: staff authors; participants play with their own quiz's Bearer token
    Row("GET",    "/api/quizzes",                         (401, 403, 403, 200, 401, 401)),
    Row("POST",   "/api/quizzes",                         (401, 403, 403, 201, 401, 401)),
    Row("GET",    "/api/quizzes/{code}",                  (401, 403, 403, 200, 401, 401)),
    Row("PATCH",  "/api/quizzes/{code}",                  (401, 403, 403, 200, 401, 401)),
    Row("DELETE", "/api/quizzes/{code}",                  (401, 403, 403, 204, 401, 401)),
    # join: service tokens are not participant tokens, so they join as anyone would
    Row("POST",   "/api/quizzes/{code}/join",             (201, 201, 201, 201, 200, 403)),
    Row("GET",    "/api/quizzes/{code}/next",             (401, 401, 401, 401, 200, 403)),
    Row("POST",   "/api/quizzes/{code}/answers",          (401, 401, 401, 401, 201, 403)),
    Row("GET",    "/api/quizzes/{code}/leaderboard",      (200, 200, 200, 200, 200, 200)),
    Row("GET",    "/api/quizzes/{code}/results",          (401, 403, 403, 200, 401, 401)),
    # hosted games (the world's quiz is self-paced: the staff's move is refused with a 409)
    Row("POST",   "/api/quizzes/{code}/game/start",  STAFF_409, json_body=False),
    Row("POST",   "/api/quizzes/{code}/game/reveal",  STAFF_409, json_body=False),
    Row("POST",   "/api/quizzes/{code}/game/next",  STAFF_409, json_body=False),
    Row("POST",   "/api/quizzes/{code}/game/end",  STAFF_409, json_body=False),
    Row("GET",    "/api/quizzes/{code}/game",             (409, 409, 409, 409, 409, 409)),
    Row("POST",   "/api/quizzes/{code}/game/answers",     (401, 401, 401, 401, 409, 403)),
    # platform
    Row("GET",    "/api/me",                              (401, 200, 200, 200, 401, 401)),
    Row("GET",    "/api/schema",                          (200, 200, 200, 200, 200, 200)),
    Row("GET",    "/api/docs",                            (200, 200, 200, 200, 200, 200)),
    Row("GET",    "/api/redoc",                           (200, 200, 200, 200, 200, 200)),
    Row("GET",    "/",                                    (302, 302, 302, 302, 302, 302)),
    Row("GET",    "/healthz",                             (200, 200, 200, 200, 200, 200)),
    Row("GET",    "/readyz",                              (200, 200, 200, 200, 200, 200)),
    Row("GET",    "/metrics",                             (200, 200, 200, 200, 200, 200)),
    # browser pages: public, their data comes from the API and the websocket
    Row("GET",    "/quizzes/{code}/",                     (200, 200, 200, 200, 200, 200)),
    Row("GET",    "/quizzes/{code}/board",                (200, 200, 200, 200, 200, 200)),
    # the host's screen needs a staff session (the admin's sign-in), not a token
    Row("GET",    "/quizzes/{code}/host",                 (302, 302, 302, 302, 302, 302)),
]
# fmt: on


def body_for(row: Row, world: World) -> Any:
    question = world.quiz.questions.order_by("order").first()
    return {
        ("POST", "/api/users"): {"username": "newcomer", "email": "newcomer@example.com"},
        ("POST", "/api/conversations"): {"user_id": str(world.learner.id)},
        ("POST", "/api/utterances"): {
            "conversation_id": str(world.conversation.id),
            "content": "I goes home.",
            "errors": [GRAMMAR_TENSE],
        },
        ("POST", "/api/utterances/bulk"): {
            "utterances": [{"conversation_id": str(world.conversation.id), "content": "Hi."}]
        },
        ("POST", "/api/utterances/{utterance_id}/errors"): {"errors": [GRAMMAR_TENSE]},
        ("POST", "/api/errors"): {"user_id": str(world.learner.id), **GRAMMAR_TENSE},
        ("POST", "/api/exercise-attempts"): {
            "user_id": str(world.learner.id),
            "exercise_id": EXERCISE_ID,
            "correct": True,
        },
        ("PUT", "/api/users/{user_id}/level"): {"level": "B1"},
        ("POST", "/data/{customerId}/{dialogId}"): {"text": "Hello there.", "language": "en"},
        ("POST", "/consents/{dialogId}"): True,
        ("POST", "/api/quizzes"): {
            "title": "Colours",
            "questions": [
                {
                    "text": "Red?",
                    "choices": [{"text": "rot", "correct": True}, {"text": "blau"}],
                }
            ],
        },
        ("PATCH", "/api/quizzes/{code}"): {"title": "Renamed"},
        ("POST", "/api/quizzes/{code}/join"): {"nickname": "newcomer"},
        ("POST", "/api/quizzes/{code}/answers"): {
            "question_id": question.id,
            "choice_id": question.choices.get(correct=True).id,
        },
        ("POST", "/api/quizzes/{code}/game/answers"): {
            "question_id": question.id,
            "choice_id": question.choices.get(correct=True).id,
        },
    }.get((row.method, row.path))


def url_for(row: Row, world: World) -> str:
    params = {
        "user_id": str(world.learner.id),
        "utterance_id": str(world.utterance.id),
        "customerId": world.dialog.customer_id,
        "dialogId": world.dialog.dialog_id,
        "code": world.quiz.code,
        "exercise_id": EXERCISE_ID,
        **row.params,
    }
    url = row.path.format(**params)
    return f"{url}?{row.query.format(**params)}" if row.query else url


class _Rollback(Exception):
    pass


def call(world: World, row: Row, actor: str) -> tuple[int, list[str]]:
    """(status, problems) of one cell, in a savepoint rolled back afterwards: every actor meets
    the same world (a staff DELETE can't hide the quiz from the next actor)."""
    body = body_for(row, world)
    kwargs = {"data": json.dumps(body), "content_type": "application/json"} if body else {}
    try:
        with transaction.atomic():
            response = world.client(actor).generic(row.method, url_for(row, world), **kwargs)
            raise _Rollback
    except _Rollback:
        pass
    problems = []
    content = response.content.decode()
    is_json_error = response.status_code >= 400 and response["Content-Type"] == "application/json"
    if is_json_error and not set(response.json()) >= {"type", "errors"}:
        problems.append(f"{actor}: not the error shape: {content[:200]}")
    leaked = [text for text in PERSONAL if text in content]
    if leaked and not (row.reveals and response.status_code < 300):
        problems.append(f"{actor}: personal data in a {response.status_code}: {leaked}")
    return response.status_code, problems


@pytest.mark.parametrize("row", TABLE, ids=[f"{row.method} {row.path}" for row in TABLE])
def test_access(world, row):
    cells = {actor: call(world, row, actor) for actor in ACTORS}

    statuses = tuple(status for status, _ in cells.values())
    assert dict(zip(ACTORS, statuses, strict=True)) == dict(zip(ACTORS, row.expect, strict=True))
    assert [problem for _, problems in cells.values() for problem in problems] == []


@pytest.mark.parametrize(
    ("path", "text"),
    [("/data", DIALOG_TEXT), ("/data/{customerId}/{dialogId}", DIALOG_TEXT)],
)
def test_personal_data_reaches_only_the_analyst(world, path, text):
    url = url_for(Row("GET", path, ()), world)

    readers = {actor for actor in ACTORS if text in world.client(actor).get(url).content.decode()}

    assert readers == {"analyst"}


def test_table_lists_every_schema_operation():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    documented = {
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
    }

    assert documented <= {(row.method, row.path) for row in TABLE}


def test_table_lists_every_url_route():
    routes = _routes(get_resolver().url_patterns)
    routes = {_schema_style(r) for r in routes if not r.startswith(UNLISTED_PREFIXES)}

    assert routes == {row.path.rstrip("/") or "/" for row in TABLE}


def _routes(patterns: list, prefix: str = "") -> list[str]:
    found = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found.extend(_routes(pattern.url_patterns, route))
        elif isinstance(pattern, URLPattern):
            found.append(route)
    return found


def _schema_style(route: str) -> str:
    """ "api/users/<uuid:user_id>/" -> "/api/users/{user_id}" (the slash alias is the same row)."""
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route).rstrip("/")
