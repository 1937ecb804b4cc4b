"""Hostile path parameters: every route with one gets NUL, `%00`, odd unicode, broken UTF-8 and
over-long values in each of its parameters, and answers with a 4xx, never a 500.

API routes answer in the error shape: an id the body rules refuse (dialogs) is a 400 naming the
parameter, a value that cannot be a UUID or a quiz code matches no route (404). UUIDs are taken
in any case, as bodies take them, and reach the view lower-cased. The table (ROUTES) pins each
route's exact answer; a sweep over the URL resolver covers every route, listed or not.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.urls import URLResolver, get_resolver, reverse
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from config.services import api_token_issue
from config.testing import assert_error
from config.tests.conftest import World
from config.tests.test_access import (
    EXERCISE_ID,
    UNLISTED_PREFIXES,
    Row,
    _routes,
    _schema_style,
    body_for,
)

pytestmark = pytest.mark.django_db

HOSTILE = {
    "nul": "a\x00b",
    "percent_nul": "a%00b",
    "only_nul": "%00",
    "control": "a%01%1Fb",
    "unicode": "d\u202e\U0001f600\u00fc\u0130",
    "broken_utf8": "a%FF%FEb",
    "spaces_quotes": "a b'\"<>",
    "long": "a" * 5000,
    "huge_number": "9" * 70,  # matches `<int:...>`, overflows bigint
}


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # as the OpenAPI schema spells it
    actor: str  # one who passes the permission check, so the parameter itself is judged
    bad: int  # status for a hostile parameter
    named: bool = False  # the 400 names the parameter (`attr`)
    json: bool = True  # answers in the API's error shape
    params: dict[str, str] = field(default_factory=dict)  # real values other than the world's


ROUTES = [
    Route("GET", "/api/users/{user_id}", "analyst", 404),
    Route("POST", "/api/utterances/{utterance_id}/errors", "ingest", 404),
    Route("GET", "/api/users/{user_id}/attempts", "analyst", 404),
    Route("GET", "/api/users/{user_id}/progress", "analyst", 404),
    Route("PUT", "/api/users/{user_id}/level", "ingest", 404),
    Route("GET", "/api/exercises/{exercise_id}", "analyst", 404),
    Route("POST", "/data/{customerId}/{dialogId}", "ingest", 400, True, params={"dialogId": "d-2"}),
    Route("GET", "/data/{customerId}/{dialogId}", "analyst", 400, named=True),
    Route("DELETE", "/data/{customerId}/{dialogId}", "ingest", 400, named=True),
    Route("DELETE", "/data/{customerId}", "ingest", 400, named=True),
    Route("POST", "/consents/{dialogId}", "ingest", 400, named=True),
    Route("GET", "/api/quizzes/{code}", "staff", 404),
    Route("PATCH", "/api/quizzes/{code}", "staff", 404),
    Route("DELETE", "/api/quizzes/{code}", "staff", 404),
    Route("POST", "/api/quizzes/{code}/join", "anonymous", 404),
    Route("GET", "/api/quizzes/{code}/next", "participant", 404),
    Route("POST", "/api/quizzes/{code}/answers", "participant", 404),
    Route("GET", "/api/quizzes/{code}/leaderboard", "anonymous", 404),
    Route("GET", "/quizzes/{code}/", "anonymous", 404, json=False),
    Route("GET", "/quizzes/{code}/board", "anonymous", 404, json=False),
]
CASES = [
    pytest.param(route, name, id=f"{route.method} {route.path} {name}")
    for route in ROUTES
    for name in re.findall(r"{(\w+)}", route.path)
]


def _real_params(world: World) -> dict[str, str]:
    return {
        "user_id": str(world.learner.id),
        "utterance_id": str(world.utterance.id),
        "customerId": world.dialog.customer_id,
        "dialogId": world.dialog.dialog_id,
        "code": world.quiz.code,
        "exercise_id": str(EXERCISE_ID),
    }


class _Rollback(Exception):
    pass


def _call(world: World, route: Route, **params: str):
    """One request in a savepoint rolled back afterwards, with the body a valid call would send."""
    body = body_for(Row(route.method, route.path, ()), world)
    data = json.dumps(body) if body else ""
    url = route.path.format(**{**_real_params(world), **route.params, **params})
    client = world.client(route.actor)
    try:
        with transaction.atomic():
            response = client.generic(route.method, url, data, content_type="application/json")
            raise _Rollback
    except _Rollback:
        pass
    return response


def _as_expected(response, route: Route, name: str) -> bool:
    if response.status_code != route.bad:
        return False
    if not route.json:
        return True
    assert_error(response, status=route.bad, attr=name if route.named else None)
    return True


@pytest.mark.parametrize(("route", "name"), CASES)
def test_hostile_path_parameter_is_a_4xx(world, route, name):
    responses = {label: _call(world, route, **{name: value}) for label, value in HOSTILE.items()}

    unexpected = {
        label: (response.status_code, response.content[:200])
        for label, response in responses.items()
        if not _as_expected(response, route, name)
    }
    assert unexpected == {}


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r.method} {r.path}" for r in ROUTES])
def test_real_path_parameters_pass(world, route):
    response = _call(world, route)

    assert response.status_code < 300, response.content[:300]


def test_routes_are_real_routes():
    routes = {_schema_style(route) for route in _routes(get_resolver().url_patterns)}

    assert {route.path.rstrip("/") for route in ROUTES} <= routes


_PARAM = r"<(?:\w+:)?(\w+)>"


def _param_routes(patterns: list, prefix: str = "") -> dict[str, Any]:
    """Route -> view for every route with a path parameter, outside the admin."""
    found: dict[str, Any] = {}
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found |= _param_routes(pattern.url_patterns, route)
        elif "<" in route and not route.startswith(UNLISTED_PREFIXES):
            found[route] = pattern.callback
    return found


def _methods(view: Any) -> list[str]:
    view_class = getattr(view, "view_class", None) or getattr(view, "cls", None)
    if view_class is None:
        return ["GET"]  # a function view: the pages
    names = [name for name in view_class.http_method_names if name != "options"]
    return [name.upper() for name in names if hasattr(view_class, name)]


def _filler(name: str, value: str, real: dict[str, str]) -> Any:
    return lambda match: value if match.group(1) == name else real[match.group(1)]


def _hostile_calls(world: World) -> list[tuple[str, str]]:
    """(method, url) with one hostile value in one parameter, the world's real values in the
    others, for every route with a parameter and every method its view answers."""
    real = _real_params(world)
    calls = []
    for route, view in _param_routes(get_resolver().url_patterns).items():
        for name in re.findall(_PARAM, route):
            for value in HOSTILE.values():
                url = "/" + re.sub(_PARAM, _filler(name, value, real), route)
                calls += [(method, url) for method in _methods(view)]
    return calls


def _in_error_shape(response: Any) -> bool:
    if response["Content-Type"] != "application/json":
        return True  # the pages' own not-found page
    return set(response.json()) == {"type", "errors"}


def test_every_route_with_a_path_parameter_refuses_hostile_values_without_a_5xx(world):
    """Also the routes the table above does not list: any method, any hostile value in any
    parameter, as a participant or a superuser, is a 4xx, in the error shape where JSON."""
    callers = {"participant": world.client("participant"), "superuser": _superuser_client()}
    calls = _hostile_calls(world)
    assert len(calls) > 100

    bad = {
        (caller, method, url[:100]): response.status_code
        for method, url in calls
        for caller, client in callers.items()
        for response in [client.generic(method, url, "{}", content_type="application/json")]
        if not 400 <= response.status_code < 500 or not _in_error_shape(response)
    }

    assert bad == {}


@pytest.mark.parametrize("spelling", [str.upper, lambda s: s.replace("-", "").upper()])
@pytest.mark.parametrize("path", ["/api/users/{}", "/api/users/{}/progress"])
def test_user_uuid_in_any_case_is_the_same_user(world, spelling, path):
    response = world.client("analyst").get(path.format(spelling(str(world.learner.id))))

    assert response.status_code == 200
    assert response.json().get("id", response.json().get("user_id")) == str(world.learner.id)


def test_utterance_uuid_in_upper_case_adds_errors(world):
    url = f"/api/utterances/{str(world.utterance.id).upper()}/errors"
    body = {"errors": [{"errorCategory": "Grammar", "errorSubCategory": "Tense"}]}

    response = world.client("ingest").post(url, body, format="json")

    assert response.status_code == 201, response.content[:300]
    assert response.json()["utterance_id"] == str(world.utterance.id)


def test_uuid_converter_reverses_to_lower_case(world):
    url = reverse("tutor-user", kwargs={"user_id": str(world.learner.id).upper()})

    assert url == f"/api/users/{world.learner.id}"


def test_admin_object_pages_refuse_hostile_ids(world, admin_client):
    """Django's admin takes `<path:object_id>` (its "view on site" redirect a content type too):
    a NUL or junk id is "not found", never a 500."""
    routes = [
        "/" + route
        for route in _routes(get_resolver().url_patterns)
        if route.startswith("admin/") and "<path:object_id>" in route
    ]
    content_types = [str(pk) for pk in ContentType.objects.values_list("pk", flat=True)]
    urls = [
        route.replace("<path:object_id>", value).replace("<int:content_type_id>", content_type)
        for route in routes
        for content_type in (content_types if "<int:content_type_id>" in route else [""])
        for value in HOSTILE.values()
    ]
    assert len(routes) > 10
    assert len(urls) > len(routes) * len(HOSTILE)  # view-on-site: one per content type

    statuses = {url[:120]: admin_client.get(url).status_code for url in urls}

    assert {url: status for url, status in statuses.items() if status >= 500} == {}


def _superuser_client() -> APIClient:
    token = api_token_issue(username="paths-root", role="staff")
    token.user.is_superuser = True
    token.user.save(update_fields=["is_superuser"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_options_on_every_api_path_is_not_a_5xx(world):
    """OPTIONS describes a view's input from its serializer; a view without one was a 500, and
    so was the results' CSV renderer asked to render that description."""
    client = _superuser_client()
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]

    urls = [path.format(**_real_params(world)) for path in paths]
    urls += [f"{url}?format=csv" for url in urls if url.endswith("/results")]  # CSV renderer

    statuses = {url: client.options(url).status_code for url in urls}

    assert {url: status for url, status in statuses.items() if status >= 500} == {}
