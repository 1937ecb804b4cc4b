"""Tutor API: thin views. The `ingest` role writes, the `analyst` role reads.

A service that needs both (e.g. a chat backend reading recommendations) gets both roles.
"""

from __future__ import annotations

import uuid

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config import replica
from config.api import HasRole
from config.openapi import error_responses
from config.throttling import ScopedRedisRateThrottle
from tutor import recommend, selectors, services
from tutor.models import Learner, LearnerError


class ErrorLabelSerializer(serializers.Serializer):
    errorCategory = serializers.CharField(max_length=80)
    errorSubCategory = serializers.CharField(max_length=80)


class ErrorOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    errorCategory = serializers.SerializerMethodField()
    errorSubCategory = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_errorCategory(self, error: LearnerError) -> str:
        return services.taxonomy.taxonomy_get().by_id[error.subcategory_id].category

    def get_errorSubCategory(self, error: LearnerError) -> str:
        return services.taxonomy.taxonomy_get().by_id[error.subcategory_id].name


def _labels(errors: list[dict]) -> list[tuple[str, str]]:
    return [(e["errorCategory"], e["errorSubCategory"]) for e in errors]


class IngestView(APIView):
    permission_classes = [HasRole("ingest")]
    throttle_classes = [ScopedRedisRateThrottle]
    throttle_scope = "ingest"


class UserCreateView(IngestView):
    @extend_schema_serializer(component_name="TutorUserCreateInput")
    class InputSerializer(serializers.Serializer):
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
        responses={201: OutputSerializer, **error_responses(400, 401, 403, 429)},
        operation_id="users_create",
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        learner = services.learner_create(**data.validated_data)
        return Response(self.OutputSerializer(learner).data, status=status.HTTP_201_CREATED)


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
        user_id = serializers.UUIDField()

    @extend_schema_serializer(component_name="TutorConversationCreateOutput")
    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        user_id = serializers.UUIDField(source="learner_id")
        started_at = serializers.DateTimeField()

    @extend_schema(
        request=InputSerializer,
        responses={201: OutputSerializer, **error_responses(400, 401, 403, 429)},
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        conversation = services.conversation_create(learner_id=data.validated_data["user_id"])
        return Response(self.OutputSerializer(conversation).data, status=status.HTTP_201_CREATED)


class UtteranceOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    conversation_id = serializers.UUIDField()
    user_id = serializers.UUIDField(source="learner_id")
    content = serializers.CharField()
    errors = ErrorOutSerializer(many=True, source="new_errors")
    created_at = serializers.DateTimeField()


class UtteranceCreateView(IngestView):
    @extend_schema_serializer(component_name="TutorUtteranceCreateInput")
    class InputSerializer(serializers.Serializer):
        conversation_id = serializers.UUIDField()
        content = serializers.CharField(max_length=10_000, trim_whitespace=False)
        errors = ErrorLabelSerializer(many=True, required=False, default=list, max_length=100)

    @extend_schema(
        request=InputSerializer,
        responses={201: UtteranceOutSerializer, **error_responses(400, 401, 403, 429)},
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        utterance = services.utterance_create(
            conversation_id=data.validated_data["conversation_id"],
            content=data.validated_data["content"],
            errors=_labels(data.validated_data["errors"]),
        )
        return Response(UtteranceOutSerializer(utterance).data, status=status.HTTP_201_CREATED)


class UtteranceErrorsAddView(IngestView):
    @extend_schema_serializer(component_name="TutorUtteranceErrorsAddInput")
    class InputSerializer(serializers.Serializer):
        errors = ErrorLabelSerializer(many=True, allow_empty=False, max_length=100)

    @extend_schema_serializer(component_name="TutorUtteranceErrorsAddOutput")
    class OutputSerializer(serializers.Serializer):
        utterance_id = serializers.UUIDField()
        errors = ErrorOutSerializer(many=True)

    @extend_schema(
        request=InputSerializer,
        responses={201: OutputSerializer, **error_responses(400, 401, 403, 404, 429)},
    )
    def post(self, request: Request, utterance_id: uuid.UUID) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rows = services.utterance_errors_add(
            utterance_id=utterance_id, errors=_labels(data.validated_data["errors"])
        )
        body = {"utterance_id": utterance_id, "errors": rows}
        return Response(self.OutputSerializer(body).data, status=status.HTTP_201_CREATED)


class ErrorCreateView(IngestView):
    @extend_schema_serializer(component_name="TutorErrorCreateInput")
    class InputSerializer(ErrorLabelSerializer):
        user_id = serializers.UUIDField()
        utterance_id = serializers.UUIDField(required=False, allow_null=True, default=None)

    @extend_schema_serializer(component_name="TutorErrorCreateOutput")
    class OutputSerializer(ErrorOutSerializer):
        user_id = serializers.UUIDField(source="learner_id")
        utterance_id = serializers.UUIDField(allow_null=True)

    @extend_schema(
        request=InputSerializer,
        responses={201: OutputSerializer, **error_responses(400, 401, 403, 429)},
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        error = services.error_create(
            learner_id=data.validated_data["user_id"],
            category=data.validated_data["errorCategory"],
            subcategory=data.validated_data["errorSubCategory"],
            utterance_id=data.validated_data["utterance_id"],
        )
        return Response(self.OutputSerializer(error).data, status=status.HTTP_201_CREATED)


class ExerciseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    instructions = serializers.CharField()
    prompt = serializers.CharField()
    difficulty = serializers.CharField()


class ReasonSerializer(serializers.Serializer):
    errors = serializers.IntegerField(help_text="Errors in the window.")
    window_days = serializers.IntegerField(allow_null=True, help_text="null: all time.")
    last_seen = serializers.DateTimeField()
    attempts = serializers.IntegerField(help_text="Exercises of this kind answered in the window.")
    correct = serializers.IntegerField()
    accuracy = serializers.FloatField(allow_null=True, help_text="correct / attempts.")
    priority = serializers.FloatField(allow_null=True, help_text="null unless ranking=priority.")
    summary = serializers.CharField(help_text="The same, in one sentence for people.")


class TopErrorSerializer(serializers.Serializer):
    errorCategory = serializers.CharField(source="category")
    errorSubCategory = serializers.CharField(source="subcategory")
    errorFrequency = serializers.IntegerField(source="frequency")
    lastSeen = serializers.DateTimeField(source="last_seen")
    exercises = ExerciseSerializer(many=True)
    reason = ReasonSerializer()


class GenerateExerciseView(APIView):
    permission_classes = [HasRole("analyst")]

    @extend_schema_serializer(component_name="TutorGenerateExerciseInput")
    class InputSerializer(serializers.Serializer):
        user_id = serializers.UUIDField()
        top_n_errors = serializers.IntegerField(min_value=1, max_value=50, default=3)
        last_n_days = serializers.IntegerField(
            min_value=1, max_value=3650, required=False, default=None
        )
        ranking = serializers.ChoiceField(choices=recommend.RANKINGS, default="frequency")

    @extend_schema_serializer(component_name="TutorGenerateExerciseOutput")
    class OutputSerializer(serializers.Serializer):
        user_id = serializers.UUIDField()
        top_n_errors = serializers.IntegerField()
        last_n_days = serializers.IntegerField(allow_null=True)
        top_errors = TopErrorSerializer(many=True)

    @extend_schema(
        parameters=[
            OpenApiParameter("user_id", OpenApiTypes.UUID, required=True),
            OpenApiParameter("top_n_errors", OpenApiTypes.INT, description="1..50, default 3"),
            OpenApiParameter(
                "last_n_days",
                OpenApiTypes.INT,
                description="Last N UTC calendar days including today (1..3650); absent: all "
                "time (ranking=priority: the last TUTOR_PRIORITY_HORIZON_DAYS).",
            ),
            OpenApiParameter(
                "ranking",
                OpenApiTypes.STR,
                enum=list(recommend.RANKINGS),
                description="frequency (default): most errors in the window. priority: how "
                "likely the error is in the next conversation (recency- and practice-weighted).",
            ),
        ],
        responses={200: OutputSerializer, **error_responses(400, 401, 403, 404)},
        operation_id="generate_exercise",
    )
    def get(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        params = data.validated_data
        top = recommend.recommendations(
            learner_id=params["user_id"],
            top_n=params["top_n_errors"],
            last_n_days=params["last_n_days"],
            ranking_name=params.pop("ranking"),
        )
        body = {**params, "top_errors": top}
        return Response(self.OutputSerializer(body).data)
