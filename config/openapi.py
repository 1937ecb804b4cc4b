"""Error responses in the OpenAPI schema, in the project's one error shape (config/errors.py).

drf-standardized-errors documents errors by itself only for its own exception handler, and with
fixed code enums ("permission_denied"), while ours (`role_required`, `quiz_not_found`, ...) are
open-ended. So views list the statuses they answer with:

    @extend_schema(responses={201: Out, **error_responses(400, 401, 403, 429)})

413 (body too large, checked before any view) and 503 (database or Redis down) can come from
every endpoint, so they are always added.
"""

from __future__ import annotations

from django_filters import FilterSet
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
