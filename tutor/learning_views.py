"""Learning API: exercise attempts, a learner's level, progress, exercise details.

Thin views over tutor/attempts.py and tutor/progress.py; generate-exercise stays in views.py.
"""

from __future__ import annotations

import uuid

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from config import replica
from config.api import HasRole
from config.openapi import error_responses
from tutor import attempts, progress
from tutor.models import Exercise, ExerciseAttempt, Level
from tutor.views import IngestView

DEFAULT_PAGE_SIZE = 50


class AttemptSerializer(serializers.ModelSerializer):
    user_id = serializers.UUIDField(source="learner_id")
    exercise_id = serializers.IntegerField()
    exercise_title = serializers.CharField(source="exercise.title")

    class Meta:
        model = ExerciseAttempt
        fields = ["id", "user_id", "exercise_id", "exercise_title", "correct", "answer"]
        fields += ["created_at"]


class AttemptCreateView(IngestView):
    @extend_schema_serializer(component_name="TutorAttemptCreateInput")
    class InputSerializer(serializers.Serializer):
        id = serializers.UUIDField(required=False, help_text="Client id: makes retries safe.")
        user_id = serializers.UUIDField()
        exercise_id = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
        correct = serializers.BooleanField()
        answer = serializers.CharField(
            max_length=10_000, required=False, default="", allow_blank=True
        )
        created_at = serializers.DateTimeField(required=False, default=None)

    @extend_schema_serializer(component_name="TutorAttemptCreateOutput")
    class OutputSerializer(AttemptSerializer):
        model_answer = serializers.CharField(source="exercise.answer")
        explanation = serializers.CharField(source="exercise.explanation")

        class Meta(AttemptSerializer.Meta):
            fields = [*AttemptSerializer.Meta.fields, "model_answer", "explanation"]

    @extend_schema(
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            200: OpenApiResponse(OutputSerializer, description="Identical retry: stored attempt."),
            **error_responses(400, 401, 403, 409, 429),
        },
        operation_id="exercise_attempts_create",
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        params = data.validated_data
        attempt, created = attempts.attempt_record(
            learner_id=params["user_id"],
            exercise_id=params["exercise_id"],
            correct=params["correct"],
            answer=params["answer"],
            attempt_id=params.get("id"),
            created_at=params["created_at"],
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(self.OutputSerializer(attempt).data, status=code)


class UserAttemptsView(replica.ReplicaReadMixin, APIView):
    permission_classes = [HasRole("analyst")]

    class QuerySerializer(serializers.Serializer):
        page_size = serializers.IntegerField(min_value=1, max_value=500, default=DEFAULT_PAGE_SIZE)
        cursor = serializers.CharField(required=False, max_length=500)

    @extend_schema_serializer(component_name="TutorAttemptPage")
    class OutputSerializer(serializers.Serializer):
        next = serializers.URLField(allow_null=True)
        results = AttemptSerializer(many=True)

    @extend_schema(
        parameters=[
            OpenApiParameter("page_size", int, description="1 to 500, default 50."),
            OpenApiParameter("cursor", str, description="Opaque; take it from `next`."),
        ],
        responses={200: OutputSerializer, **error_responses(400, 401, 403, 404)},
        operation_id="user_attempts_list",
    )
    def get(self, request: Request, user_id: uuid.UUID) -> Response:
        """The learner's attempts, newest first, keyset-paginated."""
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        token = query.validated_data.get("cursor")
        rows, nxt = attempts.attempts_page(
            learner_id=user_id,
            cursor=attempts.CURSORS.decode(token) if token else None,
            size=query.validated_data["page_size"],
        )
        link = None
        if nxt is not None:
            token = attempts.CURSORS.encode(nxt)
            link = replace_query_param(request.build_absolute_uri(), "cursor", token)
        return Response(self.OutputSerializer({"next": link, "results": rows}).data)


class UserLevelView(IngestView):
    @extend_schema_serializer(component_name="TutorUserLevelInput")
    class InputSerializer(serializers.Serializer):
        level = serializers.ChoiceField(choices=Level.choices, allow_blank=True)

    @extend_schema_serializer(component_name="TutorUserLevelOutput")
    class OutputSerializer(serializers.Serializer):
        # Not the whole user: the ingest role writes learners but does not read their details.
        id = serializers.UUIDField()
        level = serializers.CharField()

    @extend_schema(
        request=InputSerializer,
        responses={200: OutputSerializer, **error_responses(400, 401, 403, 404, 429)},
        operation_id="user_level_set",
    )
    def put(self, request: Request, user_id: uuid.UUID) -> Response:
        """Sets the learner's CEFR level ("" for unknown); exercises near it are offered first."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        learner = attempts.learner_level_set(learner_id=user_id, level=data.validated_data["level"])
        return Response(self.OutputSerializer(learner).data)


class SubcategoryProgressSerializer(serializers.Serializer):
    errorCategory = serializers.CharField(source="category")
    errorSubCategory = serializers.CharField(source="subcategory")
    daily = serializers.ListField(
        child=serializers.IntegerField(), help_text="Errors per day, aligned with `days`."
    )
    # stubs: this declared field is not Serializer.errors (DRF moves fields)
    errors = serializers.IntegerField(help_text="Errors in this window.")  # type: ignore[assignment]
    previous_errors = serializers.IntegerField(help_text="Errors in the window before it.")
    trend = serializers.ChoiceField(choices=["new", "worsening", "steady", "improving"])
    change = serializers.FloatField(allow_null=True, help_text="(errors - previous) / previous.")
    attempts = serializers.IntegerField()
    correct = serializers.IntegerField()
    accuracy = serializers.FloatField(allow_null=True)


class UserProgressView(replica.ReplicaReadMixin, APIView):
    permission_classes = [HasRole("analyst")]

    class QuerySerializer(serializers.Serializer):
        last_n_days = serializers.IntegerField(min_value=1, max_value=365, default=30)

    @extend_schema_serializer(component_name="TutorProgress")
    class OutputSerializer(serializers.Serializer):
        user_id = serializers.UUIDField()
        last_n_days = serializers.IntegerField()
        days = serializers.ListField(child=serializers.DateField())
        subcategories = SubcategoryProgressSerializer(many=True)

    @extend_schema(
        parameters=[OpenApiParameter("last_n_days", int, description="1 to 365, default 30.")],
        responses={200: OutputSerializer, **error_responses(400, 401, 403, 404)},
        operation_id="user_progress",
    )
    def get(self, request: Request, user_id: uuid.UUID) -> Response:
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        days = query.validated_data["last_n_days"]
        found = progress.progress_get(learner_id=user_id, last_n_days=days)
        body = {
            "user_id": user_id,
            "last_n_days": days,
            "days": found.days,
            "subcategories": found.subcategories,
        }
        return Response(self.OutputSerializer(body).data)


class ExerciseDetailView(APIView):
    permission_classes = [HasRole("analyst")]

    @extend_schema_serializer(component_name="TutorExercise")
    class OutputSerializer(serializers.ModelSerializer):
        difficulty = serializers.CharField(source="get_difficulty_display")
        errorCategory = serializers.CharField(source="subcategory.category.name")
        errorSubCategory = serializers.CharField(source="subcategory.name")

        class Meta:
            model = Exercise
            fields = ["id", "errorCategory", "errorSubCategory", "title", "instructions"]
            fields += ["prompt", "answer", "explanation", "level", "difficulty"]

    @extend_schema(
        parameters=[OpenApiParameter("exercise_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={200: OutputSerializer, **error_responses(401, 403, 404)},
        operation_id="exercise_retrieve",
    )
    def get(self, request: Request, exercise_id: int) -> Response:
        """The whole exercise, with its model answer and explanation (cards omit them)."""
        exercise = attempts.exercise_get(exercise_id=exercise_id)
        return Response(self.OutputSerializer(exercise).data)
