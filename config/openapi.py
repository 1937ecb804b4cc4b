"""Error responses and links in the OpenAPI schema.

Errors are documented in the project's one error shape (config/errors.py).

drf-standardized-errors documents errors by itself only for its own exception handler, and with
fixed code enums ("permission_denied"), while ours (`role_required`, `quiz_not_found`, ...) are
open-ended. So views list the statuses they answer with:

    @extend_schema(responses={201: Out, **error_responses(400, 401, 403, 429)})

413 (body too large, checked before any view) and 503 (database or Redis down) can come from
every endpoint, so they are always added.

Links (OpenAPI 3 `links`) say which value of a response feeds which later call: the user id
that `POST /api/users` returns is the `{user_id}` of `GET /api/users/{user_id}`. Clients read
them as documentation; stateful fuzzers (config/tests/test_fuzz.py) follow them to chain real
ids instead of guessing. They live in one table here, added by a postprocessing hook, so views
stay as they are.
"""

from __future__ import annotations

from typing import Any

from django_filters import FilterSet
from drf_spectacular.drainage import warn
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from drf_standardized_errors.openapi_serializers import (
    ClientErrorEnum,
    ServerErrorEnum,
    ValidationErrorEnum,
)
from rest_framework import serializers

ALWAYS = (413, 503)
DESCRIPTIONS = {
    400: "Invalid input; `attr` names the field (`validation_error`), or unparsable JSON.",
    401: "No credentials, or unknown ones.",
    403: "The credentials lack the role, or belong to another quiz.",
    404: "No such object.",
    409: "Conflicts with the object's current state; `code` says which rule.",
    413: "The request body is larger than MAX_REQUEST_BODY_BYTES.",
    429: "Throttled; retry after the `Retry-After` header's seconds.",
    503: "The database or Redis is unavailable; nothing was changed. Retry shortly.",
}


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, machine-readable, e.g. `quiz_not_found`.")
    detail = serializers.CharField(help_text="For humans; may change.")
    attr = serializers.CharField(allow_null=True, help_text="The field at fault, or null.")


class BadRequestResponseSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ValidationErrorEnum.choices + ClientErrorEnum.choices)
    # Named like the wire's key, shadowing Serializer.errors: these classes only describe the
    # schema and never validate, so the property is never read.
    errors = ErrorSerializer(many=True)  # type: ignore[assignment]


class ClientErrorResponseSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ClientErrorEnum.choices)
    errors = ErrorSerializer(many=True)  # type: ignore[assignment]


class ServerErrorResponseSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ServerErrorEnum.choices)
    errors = ErrorSerializer(many=True)  # type: ignore[assignment]


def _serializer(status: int) -> type[serializers.Serializer]:
    if status == 400:
        return BadRequestResponseSerializer
    return ClientErrorResponseSerializer if status < 500 else ServerErrorResponseSerializer


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """`{status: OpenApiResponse}` for `statuses` plus 413 and 503, in the error shape."""
    return {
        status: OpenApiResponse(_serializer(status), description=DESCRIPTIONS[status])
        for status in sorted({*statuses, *ALWAYS})
    }


def filterset_parameters(filterset_class: type[FilterSet]) -> list[OpenApiParameter]:
    """Query parameters documented from a FilterSet's declared filters (names, help texts), for
    views that paginate by hand and so don't get them from DjangoFilterBackend."""
    return [
        OpenApiParameter(name, str, description=str(spec.extra.get("help_text", "")))
        for name, spec in filterset_class.base_filters.items()
    ]


def _link(
    operation_id: str,
    description: str,
    parameters: dict[str, str] | None = None,
    body: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A link to `operation_id`: `parameters` and `body` fields map names to expressions."""
    link: dict[str, Any] = {"operationId": operation_id, "description": description}
    if parameters:
        link["parameters"] = parameters
    if body:
        link["requestBody"] = body
    return link


_NEW_ID = "$response.body#/id"
_USER_ID = "$response.body#/user_id"
_EXERCISE = "$response.body#/top_errors/0/exercises/0/id"
_SAME_QUIZ = {"code": "$request.path.code"}
_QUIZ_CODE = {"code": "$response.body#/code"}
_PARTICIPANT = {**_SAME_QUIZ, "header.Authorization": "Bearer {$response.body#/token}"}
_DIALOG = {"customerId": "$response.body#/customerId", "dialogId": "$response.body#/dialogId"}

_DIALOG_STORED = {
    "Consent": _link(
        "consent_record", "Grant or revoke it.", {"dialogId": "$response.body#/dialogId"}
    ),
    "GetDialog": _link("dialog_retrieve", "Read it (404 until consented).", _DIALOG),
    "DeleteDialog": _link("dialog_delete", "Erase it.", _DIALOG),
    "DeleteCustomer": _link(
        "customer_dialogs_delete",
        "Erase its customer's dialogs.",
        {"customerId": "$response.body#/customerId"},
    ),
}
_JOINED = {
    "Next": _link("quizzes_next", "The first question.", _PARTICIPANT),
    "Answer": _link(
        "quizzes_answer", "Answer with this token; the ids come from `next`.", _PARTICIPANT
    ),
    "Leaderboard": _link("quizzes_leaderboard", "With `me`.", _PARTICIPANT),
    "GameState": _link("quizzes_game_state", "A hosted game's state.", _PARTICIPANT),
    "GameAnswer": _link("quizzes_game_answer", "Answer the open question.", _PARTICIPANT),
}

# (operationId, status) -> {link name: link}. Expressions: OpenAPI runtime expressions.
LINKS: dict[tuple[str, str], dict[str, dict[str, Any]]] = {
    ("users_create", "201"): {
        "GetUser": _link("users_retrieve", "The new user.", {"user_id": _NEW_ID}),
        "StartConversation": _link(
            "api_conversations_create", "A conversation of theirs.", body={"user_id": _NEW_ID}
        ),
        "RecordError": _link("api_errors_create", "An error of theirs.", body={"user_id": _NEW_ID}),
        "Recommend": _link("generate_exercise", "Exercises for them.", {"user_id": _NEW_ID}),
        "SetLevel": _link("user_level_set", "Their CEFR level.", {"user_id": _NEW_ID}),
        "Progress": _link("user_progress", "Their progress.", {"user_id": _NEW_ID}),
    },
    ("api_conversations_create", "201"): {
        "AddUtterance": _link(
            "api_utterances_create",
            "An utterance in the new conversation.",
            body={"conversation_id": _NEW_ID},
        ),
    },
    ("api_utterances_create", "201"): {
        "AddErrors": _link(
            "api_utterances_errors_create",
            "More errors of the new utterance.",
            {"utterance_id": _NEW_ID},
        ),
        "RecordError": _link(
            "api_errors_create",
            "An error tied to the new utterance.",
            body={"user_id": _USER_ID, "utterance_id": _NEW_ID},
        ),
        "Recommend": _link("generate_exercise", "For its learner.", {"user_id": _USER_ID}),
    },
    ("api_errors_create", "201"): {
        "Recommend": _link("generate_exercise", "For its learner.", {"user_id": _USER_ID}),
        "GetUser": _link("users_retrieve", "Its learner.", {"user_id": _USER_ID}),
    },
    ("generate_exercise", "200"): {
        "GetExercise": _link("exercise_retrieve", "The first one.", {"exercise_id": _EXERCISE}),
        "Attempt": _link(
            "exercise_attempts_create",
            "The learner tries it.",
            body={"user_id": _USER_ID, "exercise_id": _EXERCISE},
        ),
    },
    ("exercise_attempts_create", "201"): {
        "Attempts": _link("user_attempts_list", "The learner's attempts.", {"user_id": _USER_ID}),
        "Progress": _link("user_progress", "The learner's progress.", {"user_id": _USER_ID}),
        "Recommend": _link("generate_exercise", "What to do next.", {"user_id": _USER_ID}),
    },
    ("dialog_create", "201"): _DIALOG_STORED,
    ("dialog_create", "200"): _DIALOG_STORED,  # an identical retry
    ("consent_record", "200"): {
        "GetDialog": _link("dialog_retrieve", "Read it once consented.", _DIALOG),
        "ListCustomer": _link(
            "dialog_list",
            "Its customer's consented dialogs.",
            {"query.customerId": "$response.body#/customerId"},
        ),
    },
    ("api_quizzes_create", "201"): {
        "GetQuiz": _link("api_quizzes_retrieve", "The new quiz.", _QUIZ_CODE),
        "UpdateQuiz": _link("api_quizzes_partial_update", "Edit or open it.", _QUIZ_CODE),
        "DeleteQuiz": _link("api_quizzes_destroy", "Delete it.", _QUIZ_CODE),
        "Join": _link("quizzes_join", "Join it (409 until open).", _QUIZ_CODE),
    },
    ("quizzes_game_start", "200"): {
        "Reveal": _link("quizzes_game_reveal", "Close the question.", _SAME_QUIZ),
        "End": _link("quizzes_game_end", "End the game.", _SAME_QUIZ),
    },
    ("quizzes_game_next", "200"): {
        "Reveal": _link("quizzes_game_reveal", "Close the question.", _SAME_QUIZ),
    },
    ("quizzes_game_reveal", "200"): {
        "Next": _link("quizzes_game_next", "Open the next question.", _SAME_QUIZ),
        "End": _link("quizzes_game_end", "End the game.", _SAME_QUIZ),
    },
    ("quizzes_game_end", "200"): {
        "Results": _link("quizzes_results", "Export the results.", _SAME_QUIZ),
    },
    ("api_quizzes_partial_update", "200"): {
        "Join": _link("quizzes_join", "Join it once open.", _QUIZ_CODE),
        "Leaderboard": _link("quizzes_leaderboard", "Its leaderboard.", _QUIZ_CODE),
        "StartGame": _link("quizzes_game_start", "Host it live.", _QUIZ_CODE),
    },
    ("quizzes_join", "201"): _JOINED,
    ("quizzes_join", "200"): _JOINED,  # resumed: the same token, the same next steps
    ("quizzes_next", "200"): {
        "Answer": _link(
            "quizzes_answer",
            "Answer the served question.",
            _SAME_QUIZ,
            {"question_id": _NEW_ID, "choice_id": "$response.body#/choices/0/id"},
        ),
    },
    ("quizzes_answer", "201"): {
        "Next": _link("quizzes_next", "The next question.", _SAME_QUIZ),
        "Leaderboard": _link("quizzes_leaderboard", "The new ranks.", _SAME_QUIZ),
    },
}


def postprocess_schema_links(result: dict, generator: object, **kwargs: object) -> dict:
    """drf-spectacular hook: adds LINKS to the responses they start from.

    A link whose operation or status is gone (renamed, removed) is a schema warning, which
    `manage.py spectacular --fail-on-warn` in `make test` turns into a failure.
    """
    operations = {
        operation["operationId"]: operation
        for path in result.get("paths", {}).values()
        for operation in path.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    for (source, status), links in LINKS.items():
        response = operations.get(source, {}).get("responses", {}).get(status)
        missing = sorted({link["operationId"] for link in links.values()} - operations.keys())
        if response is None or missing:
            warn(f"OpenAPI links from {source} {status}: no such response or operations {missing}")
            continue
        response.setdefault("links", {}).update(links)
    return result
