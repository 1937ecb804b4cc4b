"""Hostile input at the platform level is a 4xx in the error shape, never a 500."""

from __future__ import annotations

import pytest
from django.conf import settings

from config.parsers import json_depth_exceeds
from config.tests.conftest import ACTORS, World
from config.tests.test_access import TABLE, Row, body_for, url_for

pytestmark = pytest.mark.django_db

DEEP_BODY = "[" * 1000 + "]" * 1000  # RecursionError in CPython's json without a bound


def _writer(row: Row) -> str:
    """The first actor the access table lets through: the one whose body is really parsed (or,
    where the world's state refuses everyone with a 409, the one allowed to try)."""
    statuses = list(zip(ACTORS, row.expect, strict=True))
    passed = [actor for actor, status in statuses if status < 300]
    return passed[0] if passed else next(a for a, s in statuses if s not in (401, 403))


JSON_WRITES = [row for row in TABLE if row.method in {"POST", "PATCH", "PUT"} and row.json_body]


@pytest.mark.parametrize("row", JSON_WRITES, ids=[f"{r.method} {r.path}" for r in JSON_WRITES])
def test_deeply_nested_json_is_a_400_naming_the_body(world: World, row: Row):
    assert body_for(row, world) is not None  # a JSON endpoint the access table writes to
    client = world.client(_writer(row))

    response = client.generic(
        row.method, url_for(row, world), DEEP_BODY, content_type="application/json"
    )

    assert response.status_code == 400, response.content[:300]
    assert response.json() == {
        "type": "validation_error",
        "errors": [
            {
                "code": "json_too_deep",
                "detail": f"The JSON body nests deeper than {settings.JSON_MAX_DEPTH} levels.",
                "attr": "body",
            }
        ],
    }


def test_json_just_over_the_depth_limit_is_refused_and_at_it_accepted(world: World):
    row = next(r for r in TABLE if r.path == "/api/quizzes/{code}/join")
    limit = settings.JSON_MAX_DEPTH
    at_limit = {"nickname": "deep", "extra": [[]] * 1}
    nested: object = "x"
    for _ in range(limit):
        nested = [nested]

    over = world.client("anonymous").post(
        url_for(row, world), {"nickname": "deep", "extra": nested}, format="json"
    )
    ok = world.client("anonymous").post(url_for(row, world), at_limit, format="json")

    assert over.status_code == 400
    assert over.json()["errors"][0]["attr"] == "body"
    assert ok.status_code == 201, ok.content[:300]


def test_json_depth_exceeds_counts_containers_not_scalars():
    assert not json_depth_exceeds({"a": [1, {"b": "c"}]}, 3)
    assert json_depth_exceeds({"a": [1, {"b": ["c"]}]}, 3)
    assert not json_depth_exceeds([], 1)


def test_unique_field_error_is_typed_validation_error(ingest_client):
    body = {"username": "twice", "email": "twice@example.com"}
    ingest_client.post("/api/users", body, format="json")

    response = ingest_client.post(
        "/api/users", {**body, "email": "other@example.com"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert response.json()["errors"][0]["attr"] == "username"
