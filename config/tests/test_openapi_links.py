"""The schema's OpenAPI links (config/openapi.py) chain real calls: each test walks one workflow,
building every next request only from the link the served schema gives and the previous
response, the way a stateful client or fuzzer does."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

import pytest
from drf_spectacular.generators import SchemaGenerator

from config.openapi import LINKS
from config.tests.conftest import World

pytestmark = pytest.mark.django_db

_EXPRESSION = re.compile(r"\$(request\.path\.\w+|response\.body#[/\w]*)")
GRAMMAR_TENSE = {"errorCategory": "Grammar", "errorSubCategory": "Tense"}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def _operations(schema: dict[str, Any]) -> dict[str, tuple[str, str, dict]]:
    return {
        operation["operationId"]: (method.upper(), path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    }


def _evaluate(expression: str, body: Any, path_params: dict[str, str]) -> Any:
    """The runtime expressions these links use: `$response.body#/pointer`, `$request.path.x`,
    alone or inside a string ("Bearer {$response.body#/token}")."""

    def value(source: str) -> Any:
        if source.startswith("request.path."):
            return path_params[source.removeprefix("request.path.")]
        found = body
        for part in filter(None, source.split("#", 1)[1].split("/")):
            found = found[int(part)] if isinstance(found, list) else found[part]
        return found

    whole = _EXPRESSION.fullmatch(expression)
    if whole:
        return value(whole.group(1))
    return re.sub(r"{\$([^}]+)}", lambda m: str(value(m.group(1))), expression)


class Walker:
    """Calls operations by operationId; `follow` builds the next call from a link."""

    def __init__(self, schema: dict[str, Any], world: World) -> None:
        self.operations = _operations(schema)
        self.world = world
        # operationId -> (status, body, path params) of its latest call
        self.seen: dict[str, tuple[int, Any, dict[str, str]]] = {}
        self.latest = ""

    def call(self, operation_id: str, actor: str, params=None, body: Any = None):
        """`params`: {"path": {...}, "query": {...}, "header": {...}}."""
        method, path, _ = self.operations[operation_id]
        params = {"path": {}, "query": {}, "header": {}, **(params or {})}
        url = path.format(**params["path"])
        if params["query"]:
            url += "?" + urlencode(params["query"])
        kwargs = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in params["header"].items()}
        if body is not None:
            kwargs |= {"data": json.dumps(body), "content_type": "application/json"}
        response = self.world.client(actor).generic(method, url, **kwargs)
        payload = response.json() if response.content else None
        self.seen[operation_id] = (response.status_code, payload, params["path"])
        self.latest = operation_id
        return response

    def follow(self, link_name: str, actor: str, body: Any = None, source: str = ""):
        """Follows `link_name` from the latest call (or from `source`'s latest call)."""
        source = source or self.latest
        status, payload, path_params = self.seen[source]
        links = self.operations[source][2]["responses"][str(status)].get("links", {})
        assert link_name in links, (source, status, payload)
        link = links[link_name]
        target = self.operations[link["operationId"]][2]
        located = {p["name"]: p["in"] for p in target.get("parameters", [])}
        params: dict[str, dict[str, Any]] = {"path": {}, "query": {}, "header": {}}
        for name, expression in link.get("parameters", {}).items():
            where, _, bare = name.rpartition(".")
            params[where or located[bare]][bare] = _evaluate(expression, payload, path_params)
        linked_body = {
            name: _evaluate(expression, payload, path_params)
            for name, expression in link.get("requestBody", {}).items()
        }
        if linked_body:
            body = {**(body or {}), **linked_body}
        return self.call(link["operationId"], actor, params, body)


def test_links_cover_the_core_workflows(schema):
    operations = _operations(schema)
    linked = {
        (operation_id, status)
        for operation_id, (_, _, operation) in operations.items()
        for status, response in operation["responses"].items()
        if response.get("links")
    }

    assert linked == set(LINKS)


def test_links_chain_a_learner_to_their_utterance_errors(schema, world):
    walk = Walker(schema, world)
    walk.call("users_create", "ingest", body={"username": "linkie", "email": "l@example.com"})

    walk.follow("StartConversation", "ingest")
    walk.follow("AddUtterance", "ingest", body={"content": "I goes.", "errors": [GRAMMAR_TENSE]})
    response = walk.follow("AddErrors", "ingest", body={"errors": [GRAMMAR_TENSE]})

    assert response.status_code == 201, response.content[:300]
    assert [e["errorSubCategory"] for e in response.json()["errors"]] == ["Tense"]


def test_links_chain_a_new_user_to_its_detail(schema, world):
    walk = Walker(schema, world)
    created = walk.call("users_create", "ingest", body={"username": "u2", "email": "u2@x.org"})

    response = walk.follow("GetUser", "analyst")

    assert response.status_code == 200
    assert response.json()["id"] == created.json()["id"]


def test_links_chain_a_dialog_to_its_consent_and_detail(schema, world):
    walk = Walker(schema, world)
    walk.call(
        "dialog_create",
        "ingest",
        {"path": {"customerId": "c-9", "dialogId": "d-9"}},
        body={"text": "Hi.", "language": "en"},
    )

    consent = walk.follow("Consent", "ingest", body={"approved": True})
    response = walk.follow("GetDialog", "analyst")

    assert consent.status_code == 200, consent.content[:300]
    assert response.status_code == 200
    assert response.json()["dialogId"] == "d-9"


def test_links_chain_a_join_to_next_and_an_answer(schema, world):
    walk = Walker(schema, world)
    code = {"path": {"code": world.quiz.code}}
    walk.call("quizzes_join", "anonymous", code, body={"nickname": "zed"})

    served = walk.follow("Next", "anonymous")
    question = {"question_id": served.json()["id"], "choice_id": served.json()["choices"][0]["id"]}
    response = walk.follow("Answer", "anonymous", body=question, source="quizzes_join")

    assert served.status_code == 200, served.content[:300]
    assert response.status_code == 201, response.content[:300]
    assert response.json()["answered"] == 1


def test_links_chain_an_error_to_a_recommended_exercise_attempt(
    schema, world, django_capture_on_commit_callbacks
):
    walk = Walker(schema, world)
    walk.call("users_create", "ingest", body={"username": "u3", "email": "u3@x.org"})
    with django_capture_on_commit_callbacks(execute=True):  # counts the error in Redis
        walk.follow("RecordError", "ingest", body=GRAMMAR_TENSE)

    recommended = walk.follow("Recommend", "analyst")
    attempt = walk.follow("Attempt", "ingest", body={"correct": True, "answer": "I went."})
    attempts = walk.follow("Attempts", "analyst")

    assert recommended.status_code == 200, recommended.content[:300]
    assert attempt.status_code == 201, attempt.content[:300]
    assert [a["id"] for a in attempts.json()["results"]] == [attempt.json()["id"]]
