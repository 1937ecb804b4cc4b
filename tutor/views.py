"""Tutor API: thin views. The `ingest` role writes, the `analyst` role reads.

A service that needs both (e.g. a chat backend reading recommendations) gets both roles.
"""

from __future__ import annotations

import uuid
from types import SimpleNamespace

from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config import replica
from config.api import HasRole, iso_datetime
from config.openapi import ErrorSerializer, error_responses
from config.throttling import ScopedRedisRateThrottle
from tutor import payloads, selectors, services, taxonomy
from tutor.ingest import bulk, writes
from tutor.ingest.plans import ErrorRow, UtteranceRow
from tutor.models import Learner


class ErrorOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    errorCategory = serializers.SerializerMethodField()
    errorSubCategory = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_errorCategory(self, error: ErrorRow) -> str:
        return taxonomy.taxonomy_get().by_id[error.subcategory_id].category

    def get_errorSubCategory(self, error: ErrorRow) -> str:
        return taxonomy.taxonomy_get().by_id[error.subcategory_id].name


def _error_out(error: ErrorRow, by_id: dict) -> dict:
    sub = by_id[error.subcategory_id]
    return {
        "id": str(error.id),
        "errorCategory": sub.category,
        "errorSubCategory": sub.name,
        "created_at": iso_datetime(error.created_at),
    }


def utterance_out(row: UtteranceRow) -> dict:
    """UtteranceOutSerializer's output, built directly: this is the hottest response."""
    by_id = taxonomy.taxonomy_get().by_id
    return {
        "id": str(row.id),
        "conversation_id": str(row.conversation_id),
        "user_id": str(row.learner_id),
        "content": row.content,
        "errors": [_error_out(e, by_id) for e in row.errors],
        "created_at": iso_datetime(row.created_at),
    }


def _status(created: bool) -> int:
    return status.HTTP_201_CREATED if created else status.HTTP_200_OK


RETRY = (
    "Safe to retry: with a client-chosen `id`, the same request again answers 200 with the "
    "stored object and counts nothing twice; the same id with other content is a 409 naming `id`."
)


class IngestView(APIView):
    permission_classes = [HasRole("ingest")]
    throttle_classes = [ScopedRedisRateThrottle]
    throttle_scope = "ingest"


class UserCreateView(IngestView):
    @extend_schema_serializer(component_name="TutorUserCreateInput")
    class InputSerializer(serializers.Serializer):
        id = serializers.UUIDField(required=False, help_text=payloads.CLIENT_ID_HELP)
        username = serializers.CharField(max_length=150)
        email = serializers.EmailField(max_length=254)
        first_name = serializers.CharField(
            max_length=150, required=False, default="", allow_blank=True
        )
        last_name = serializers.CharField(
            max_length=150, required=False, default="", allow_blank=True
        )

    @extend_schema_serializer(component_name="TutorUserCreateOutput")
    class OutputSerializer(serializers.ModelSerializer):
        class Meta:
            model = Learner
            fields = ["id", "username", "email", "first_name", "last_name", "created_at", "level"]

    @extend_schema(
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            200: OpenApiResponse(OutputSerializer, description="Already stored (a retry)."),
            **error_responses(400, 401, 403, 409, 429),
        },
        operation_id="users_create",
        description=RETRY,
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        if "id" in fields:
            learner, created = services.learner_ensure(**fields)
        else:
            learner, created = services.learner_create(**fields), True
        return Response(self.OutputSerializer(learner).data, status=_status(created))


class UserDetailView(replica.ReplicaReadMixin, APIView):
    permission_classes = [HasRole("analyst")]

    @extend_schema(
        responses={200: UserCreateView.OutputSerializer, **error_responses(401, 403, 404)},
        operation_id="users_retrieve",
    )
    def get(self, request: Request, user_id: uuid.UUID) -> Response:
        learner = selectors.learner_get(learner_id=user_id)
        return Response(UserCreateView.OutputSerializer(learner).data)


class ConversationCreateView(IngestView):
    @extend_schema_serializer(component_name="TutorConversationCreateInput")
    class InputSerializer(serializers.Serializer):
        id = serializers.UUIDField(required=False, help_text=payloads.CLIENT_ID_HELP)
        user_id = serializers.UUIDField()

    @extend_schema_serializer(component_name="TutorConversationCreateOutput")
    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        user_id = serializers.UUIDField(source="learner_id")
        started_at = serializers.DateTimeField()

    @extend_schema(
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            200: OpenApiResponse(OutputSerializer, description="Already stored (a retry)."),
            **error_responses(400, 401, 403, 409, 429),
        },
        description=RETRY,
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        conversation, created = services.conversation_create(
            learner_id=data.validated_data["user_id"], id=data.validated_data.get("id")
        )
        return Response(self.OutputSerializer(conversation).data, status=_status(created))


class UtteranceOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    conversation_id = serializers.UUIDField()
    user_id = serializers.UUIDField(source="learner_id")
    content = serializers.CharField()
    # stubs: this declared field is not Serializer.errors (DRF moves fields)
    errors = ErrorOutSerializer(many=True)  # type: ignore[assignment]
    created_at = serializers.DateTimeField()


class UtteranceCreateView(IngestView):
    InputSerializer = extend_schema_serializer(component_name="TutorUtteranceCreateInput")(
        payloads.UtteranceSerializer
    )

    @extend_schema(
        request=InputSerializer,
        responses={
            201: UtteranceOutSerializer,
            200: OpenApiResponse(UtteranceOutSerializer, description="Already stored (a retry)."),
            **error_responses(400, 401, 403, 409, 429),
        },
        description=RETRY,
    )
    def post(self, request: Request) -> Response:
        item = payloads.body(
            request, payloads.UtteranceIn, self.InputSerializer, payloads.utterance_in
        )
        row, created = writes.utterance_create(item=item)
        return Response(utterance_out(row), status=_status(created))


@extend_schema_serializer(component_name="TutorUtteranceBulkResult")
class BulkResultSerializer(serializers.Serializer):
    status = serializers.IntegerField(help_text="201 stored, 200 already stored, or 4xx.")
    id = serializers.UUIDField(required=False)
    error_ids = serializers.ListField(child=serializers.UUIDField(), required=False)
    # stubs: this declared field is not Serializer.errors (DRF moves fields)
    errors = ErrorSerializer(  # type: ignore[assignment]
        many=True, required=False, help_text="For a 4xx: `attr` names the item's field."
    )


@extend_schema_serializer(component_name="TutorUtteranceBulkTotals")
class BulkTotalsSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    existing = serializers.IntegerField(help_text="Already stored: a retry.")
    rejected = serializers.IntegerField()


class UtteranceBulkCreateView(IngestView):
    throttle_scope = "ingest_bulk"

    @extend_schema_serializer(component_name="TutorUtteranceBulkOutput")
    class OutputSerializer(serializers.Serializer):
        results = BulkResultSerializer(many=True, help_text="One per item, in order.")
        totals = BulkTotalsSerializer()

    @extend_schema(
        request=extend_schema_serializer(component_name="TutorUtteranceBulkInput")(
            payloads.BulkSerializer
        ),
        responses={200: OutputSerializer, **error_responses(400, 401, 403, 413, 429)},
        description="Up to TUTOR_BULK_MAX utterances (more: 413 naming `utterances`). Each item "
        "is validated and stored on its own, exactly once: invalid items do not stop valid ones. "
        + RETRY,
    )
    def post(self, request: Request) -> Response:
        results = bulk.utterances_bulk_create(raw_items=payloads.bulk_items(request))
        out = [_bulk_result(r) for r in results]
        totals = {"created": 0, "existing": 0, "rejected": 0}
        for r in results:
            totals[
                "created" if r.status == 201 else "existing" if r.status == 200 else "rejected"
            ] += 1
        return Response({"results": out, "totals": totals})


def _bulk_result(result: bulk.ItemResult) -> dict:
    if result.errors:
        return {"status": result.status, "errors": result.errors}
    return {
        "status": result.status,
        "id": str(result.id),
        "error_ids": [str(e) for e in result.error_ids],
    }


class UtteranceErrorsAddView(IngestView):
    @extend_schema_serializer(component_name="TutorUtteranceErrorsAddInput")
    class InputSerializer(serializers.Serializer):
        # as in payloads.UtteranceSerializer.errors (a field, and many=True takes max_length)
        errors = payloads.ErrorItemSerializer(  # type: ignore[assignment, call-arg]
            many=True, allow_empty=False, max_length=100
        )

    @extend_schema_serializer(component_name="TutorUtteranceErrorsAddOutput")
    class OutputSerializer(serializers.Serializer):
        utterance_id = serializers.UUIDField()
        # stubs: this declared field is not Serializer.errors (DRF moves fields)
        errors = ErrorOutSerializer(many=True)  # type: ignore[assignment]

    @extend_schema(
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            200: OpenApiResponse(OutputSerializer, description="All already stored (a retry)."),
            **error_responses(400, 401, 403, 404, 409, 429),
        },
        description=RETRY + " Each error item may carry its own `id`.",
    )
    def post(self, request: Request, utterance_id: uuid.UUID) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        items = [payloads.error_item(e) for e in data.validated_data["errors"]]
        rows, created = writes.utterance_errors_add(utterance_id=utterance_id, items=items)
        body = {"utterance_id": utterance_id, "errors": rows}
        return Response(self.OutputSerializer(body).data, status=_status(created))


class ErrorCreateView(IngestView):
    @extend_schema_serializer(component_name="TutorErrorCreateInput")
    class InputSerializer(payloads.ErrorItemSerializer):
        user_id = serializers.UUIDField()
        utterance_id = serializers.UUIDField(required=False, allow_null=True, default=None)

    @extend_schema_serializer(component_name="TutorErrorCreateOutput")
    class OutputSerializer(ErrorOutSerializer):
        user_id = serializers.UUIDField()
        utterance_id = serializers.UUIDField(allow_null=True)

    @extend_schema(
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            200: OpenApiResponse(OutputSerializer, description="Already stored (a retry)."),
            **error_responses(400, 401, 403, 409, 429),
        },
        description=RETRY,
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        params = data.validated_data
        row, created = writes.error_create(
            learner_id=params["user_id"],
            item=payloads.error_item(params),
            utterance_id=params["utterance_id"],
        )
        body = SimpleNamespace(
            **vars(row), user_id=params["user_id"], utterance_id=params["utterance_id"]
        )
        return Response(self.OutputSerializer(body).data, status=_status(created))
