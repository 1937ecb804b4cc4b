"""Ingest request bodies: a fast msgspec path in front of the views' DRF serializers.

The serializers are the contract (schema, browsable API, error messages). msgspec decodes and
validates the common JSON body in one C call, at least as strictly as the serializer: whatever
it refuses (a number where a string is expected, a naive datetime, a malformed body) goes
through the serializer, which either accepts it (DRF is more lenient) or answers 400 in the
project's error shape, naming the field. So both paths accept and reject the same bodies (one
difference: msgspec skips a field the API does not know without bounding its nesting depth;
nothing reads it).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Any, TypeVar

import msgspec
from django.conf import settings
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.request import Request

from config.parsers import json_depth_exceeds

Label = Annotated[str, msgspec.Meta(min_length=1, max_length=80, pattern=r"\S")]
Content = Annotated[str, msgspec.Meta(min_length=1, max_length=10_000)]
AwareTime = Annotated[datetime, msgspec.Meta(tz=True)]
MAX_ERRORS = 100


class ErrorItem(msgspec.Struct):
    errorCategory: Label
    errorSubCategory: Label
    id: uuid.UUID | None = None
    created_at: AwareTime | None = None


class UtteranceIn(msgspec.Struct):
    conversation_id: uuid.UUID
    content: Content
    errors: Annotated[list[ErrorItem], msgspec.Meta(max_length=MAX_ERRORS)] = []
    id: uuid.UUID | None = None
    created_at: AwareTime | None = None


class BulkIn(msgspec.Struct):
    utterances: list[msgspec.Raw]


# --- The contract: DRF serializers (schema, browsable API, error messages) ---------------------


CLIENT_ID_HELP = "Client-chosen (optional); a retry with the same id is not stored twice."


class ErrorItemSerializer(serializers.Serializer):
    id = serializers.UUIDField(required=False, help_text=CLIENT_ID_HELP)
    errorCategory = serializers.CharField(max_length=80)
    errorSubCategory = serializers.CharField(max_length=80)
    created_at = serializers.DateTimeField(
        required=False, help_text="When the learner made it (default: the utterance's time)."
    )


class UtteranceSerializer(serializers.Serializer):
    id = serializers.UUIDField(required=False, help_text=CLIENT_ID_HELP)
    conversation_id = serializers.UUIDField()
    content = serializers.CharField(max_length=10_000, trim_whitespace=False)
    # stubs: a declared field named `errors` is not Serializer.errors; many=True takes max_length
    errors = ErrorItemSerializer(  # type: ignore[assignment, call-arg]
        many=True, required=False, default=list, max_length=MAX_ERRORS
    )
    created_at = serializers.DateTimeField(
        required=False,
        help_text="When the learner spoke (default: now); counts land in its UTC day. At most "
        "TUTOR_MAX_AGE_DAYS old and a few minutes ahead.",
    )


class BulkSerializer(serializers.Serializer):
    utterances = UtteranceSerializer(many=True, help_text="At most TUTOR_BULK_MAX items.")


T = TypeVar("T", bound=msgspec.Struct)


def _is_json(request: Request) -> bool:
    return (request.content_type or "").startswith("application/json")


def _clean(value: msgspec.Struct) -> bool:
    """What msgspec cannot express: DRF refuses NUL characters in text (so does Postgres)."""
    return "\x00" not in getattr(value, "content", "")


# What makes msgspec give up; the DRF path then answers (a body nested too deep: RecursionError,
# which the project's JSON parser turns into a 400 naming the body).
_REFUSED = (msgspec.ValidationError, msgspec.DecodeError, RecursionError)


def fast_decode(raw: bytes, struct: type[T]) -> T | None:
    try:
        value = msgspec.json.decode(raw, type=struct)
    except _REFUSED:
        return None
    return value if _clean(value) else None


def body(
    request: Request,
    struct: type[T],
    serializer: type[serializers.Serializer],
    build: Callable[[Mapping[str, Any]], T],
) -> T:
    """The request body as `struct`: msgspec when it can, else the serializer (or its 400)."""
    if _is_json(request):
        value = fast_decode(request.body, struct)
        if value is not None:
            return value
    data = serializer(data=request.data)
    data.is_valid(raise_exception=True)
    return build(data.validated_data)


def error_item(data: Mapping[str, Any]) -> ErrorItem:
    return ErrorItem(
        errorCategory=data["errorCategory"],
        errorSubCategory=data["errorSubCategory"],
        id=data.get("id"),
        created_at=data.get("created_at"),
    )


def utterance_in(data: Mapping[str, Any]) -> UtteranceIn:
    return UtteranceIn(
        conversation_id=data["conversation_id"],
        content=data["content"],
        errors=[error_item(e) for e in data.get("errors") or []],
        id=data.get("id"),
        created_at=data.get("created_at"),
    )


def bulk_items(request: Request) -> list[msgspec.Raw] | list[Any]:
    """The raw items of a bulk body, each validated later on its own. A body that is not an
    object with a list `utterances` is a 400 naming `utterances`."""
    if _is_json(request):
        try:
            return msgspec.json.decode(request.body, type=BulkIn).utterances
        except _REFUSED:
            pass
    data = request.data
    items = data.get("utterances") if isinstance(data, Mapping) else None
    if not isinstance(items, list):
        raise serializers.ValidationError(
            {"utterances": [ErrorDetail("Expected a list of utterances.", code="not_a_list")]}
        )
    return items


def _plain(raw: bytes) -> Any:
    """An item as plain data for the serializer, nested no deeper than the JSON parser allows."""
    detail = f"The item nests deeper than {settings.JSON_MAX_DEPTH} levels."
    too_deep = serializers.ValidationError({"body": [ErrorDetail(detail, code="json_too_deep")]})
    try:
        data = msgspec.json.decode(raw)
    except RecursionError:
        raise too_deep from None
    if isinstance(data, dict | list) and json_depth_exceeds(data, settings.JSON_MAX_DEPTH):
        raise too_deep
    return data


def bulk_item(raw: msgspec.Raw | Any) -> UtteranceIn:
    """One bulk item: msgspec on its raw JSON, else the serializer (400 naming its fields)."""
    if isinstance(raw, msgspec.Raw):
        value = fast_decode(bytes(raw), UtteranceIn)
        if value is not None:
            return value
        raw = _plain(bytes(raw))
    data = UtteranceSerializer(data=raw)
    data.is_valid(raise_exception=True)
    return utterance_in(data.validated_data)
