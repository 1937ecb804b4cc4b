"""`GET /api/generate-exercise`: a thin view over tutor/recommend.py.

The chat backend asks for it after every conversation, so its plain path skips DRF's serializer
machinery: a well-formed query is read directly and the response is built as a dict. The
serializers below stay the contract: they validate anything else (naming the field in the 400),
describe the schema, and a test holds the dict to their output.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.http import QueryDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import HasRole, iso_datetime
from config.openapi import error_responses
from tutor import recommend, taxonomy

TOP_N = (1, 50, 3)  # min, max, default
LAST_N_DAYS = (1, 3650)


class ExerciseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    instructions = serializers.CharField()
    prompt = serializers.CharField()
    difficulty = serializers.CharField()


class ReasonSerializer(serializers.Serializer):
    # stubs: this declared field is not Serializer.errors (DRF moves fields)
    errors = serializers.IntegerField(help_text="Errors in the window.")  # type: ignore[assignment]
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


def _plain_int(value: Any, low: int, high: int) -> int | None:
    if not (isinstance(value, str) and value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if low <= number <= high else None


def query_plain(params: QueryDict) -> dict[str, Any] | None:
    """InputSerializer's validated data for a query in its plain form (canonical numbers, a
    UUID, a known ranking); None for anything else, which the serializer then judges."""
    try:
        user_id = uuid.UUID(params.get("user_id"))
    except (TypeError, ValueError):  # absent, or not a UUID
        return None
    low, high, default = TOP_N
    top_n = _plain_int(params.get("top_n_errors", str(default)), low, high)
    days_text = params.get("last_n_days")
    last_n_days = None if days_text is None else _plain_int(days_text, *LAST_N_DAYS)
    ranking = params.get("ranking", "frequency")
    if top_n is None or (days_text is not None and last_n_days is None):
        return None
    if ranking not in recommend.RANKINGS:
        return None
    return {
        "user_id": user_id,
        "top_n_errors": top_n,
        "last_n_days": last_n_days,
        "ranking": ranking,
    }


def _exercise_out(card: taxonomy.ExerciseCard) -> dict[str, Any]:
    return {
        "id": card.id,
        "title": card.title,
        "instructions": card.instructions,
        "prompt": card.prompt,
        "difficulty": card.difficulty,
    }


def recommendation_out(item: recommend.Recommendation) -> dict[str, Any]:
    """TopErrorSerializer's output, built directly."""
    reason = item.reason
    return {
        "errorCategory": item.category,
        "errorSubCategory": item.subcategory,
        "errorFrequency": item.frequency,
        "lastSeen": iso_datetime(item.last_seen),
        "exercises": [_exercise_out(card) for card in item.exercises],
        "reason": {
            "errors": reason.errors,
            "window_days": reason.window_days,
            "last_seen": iso_datetime(reason.last_seen),
            "attempts": reason.attempts,
            "correct": reason.correct,
            "accuracy": reason.accuracy,
            "priority": reason.priority,
            "summary": reason.summary,
        },
    }


class GenerateExerciseView(APIView):
    permission_classes = [HasRole("analyst")]

    @extend_schema_serializer(component_name="TutorGenerateExerciseInput")
    class InputSerializer(serializers.Serializer):
        user_id = serializers.UUIDField()
        top_n_errors = serializers.IntegerField(
            min_value=TOP_N[0], max_value=TOP_N[1], default=TOP_N[2]
        )
        last_n_days = serializers.IntegerField(
            min_value=LAST_N_DAYS[0], max_value=LAST_N_DAYS[1], required=False, default=None
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
        params = query_plain(request.query_params)
        if params is None:
            data = self.InputSerializer(data=request.query_params)
            data.is_valid(raise_exception=True)
            params = dict(data.validated_data)
        top = recommend.recommendations(
            learner_id=params["user_id"],
            top_n=params["top_n_errors"],
            last_n_days=params["last_n_days"],
            ranking_name=params["ranking"],
        )
        return Response(
            {
                "user_id": str(params["user_id"]),
                "top_n_errors": params["top_n_errors"],
                "last_n_days": params["last_n_days"],
                "top_errors": [recommendation_out(item) for item in top],
            }
        )
