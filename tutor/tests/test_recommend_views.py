"""generate-exercise's plain path: the query read without a serializer and the response built as
a dict must say exactly what the serializers (the schema) say."""

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.http import QueryDict
from django.utils import timezone as dj_timezone

from tutor import attempts, recommend, taxonomy
from tutor.recommend_views import (
    GenerateExerciseView,
    TopErrorSerializer,
    query_plain,
    recommendation_out,
)
from tutor.tests.factories import LearnerErrorFactory

USER = str(uuid.UUID(int=7))


def _serializer_view(query: str) -> dict | None:
    data = GenerateExerciseView.InputSerializer(data=QueryDict(query))
    return dict(data.validated_data) if data.is_valid() else None


@pytest.mark.parametrize(
    "query",
    [
        f"user_id={USER}",
        f"user_id={USER}&top_n_errors=1&last_n_days=1&ranking=priority",
        f"user_id={USER}&top_n_errors=50&last_n_days=3650&ranking=frequency",
        f"user_id={USER.replace('-', '')}&top_n_errors=007",
        f"user_id={USER}&top_n_errors=2&top_n_errors=4",  # the last value wins, as in DRF
        f"user_id={USER}&unknown=1",
    ],
)
def test_plain_query_reads_as_the_serializer_validates(query):
    assert query_plain(QueryDict(query)) == _serializer_view(query)


@pytest.mark.parametrize(
    "query",
    [
        "",
        "user_id=123",
        f"user_id={USER}&top_n_errors=0",
        f"user_id={USER}&top_n_errors=51",
        f"user_id={USER}&top_n_errors=3.0",
        f"user_id={USER}&top_n_errors=",
        f"user_id={USER}&top_n_errors=%EF%BC%93",  # a full-width digit
        f"user_id={USER}&last_n_days=0",
        f"user_id={USER}&last_n_days=3651",
        f"user_id={USER}&last_n_days=",
        f"user_id={USER}&ranking=Priority",
    ],
)
def test_anything_else_is_left_to_the_serializer(query):
    assert query_plain(QueryDict(query)) is None


def _recommendation(**reason) -> recommend.Recommendation:
    seen = datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=timezone(timedelta(hours=2)))
    base = {
        "errors": 4,
        "window_days": 30,
        "last_seen": seen,
        "attempts": 0,
        "correct": 0,
        "accuracy": None,
        "priority": None,
        "summary": "4 errors",
    }
    return recommend.Recommendation(
        "Grammar", "Tense", 4, seen, [], recommend.Reason(**(base | reason))
    )


@pytest.mark.parametrize(
    "reason",
    [{}, {"window_days": None, "attempts": 3, "correct": 2, "accuracy": 0.667, "priority": 1.5}],
)
def test_dict_output_is_the_serializers_output(reason, tax):
    item = _recommendation(**reason)
    item.exercises.extend(next(iter(taxonomy.taxonomy_get().pool.values()))[:2])

    assert recommendation_out(item) == TopErrorSerializer(item).data


@pytest.mark.parametrize("ranking", recommend.RANKINGS)
def test_response_is_the_output_serializers(analyst_client, tax, sub, learner, ranking):
    now = dj_timezone.now()
    for name, ago in [("Tense", 0), ("Tense", 2), ("Article", 1)]:
        LearnerErrorFactory(
            learner=learner,
            subcategory_id=sub("Grammar", name),
            created_at=now - timedelta(days=ago),
            uncounted_batch=uuid.uuid4(),
        )
    exercise = taxonomy.taxonomy_get().pool[sub("Grammar", "Tense")][0]
    attempts.attempt_record(learner_id=learner.id, exercise_id=exercise.id, correct=True)
    query = {"user_id": str(learner.id), "last_n_days": 7, "ranking": ranking}

    response = analyst_client.get("/api/generate-exercise", query)

    top = recommend.recommendations(
        learner_id=learner.id, top_n=3, last_n_days=7, ranking_name=ranking
    )
    expected = GenerateExerciseView.OutputSerializer(
        {"user_id": learner.id, "top_n_errors": 3, "last_n_days": 7, "top_errors": top}
    ).data
    assert response.status_code == 200
    assert response.json() == expected
    assert [t["errorSubCategory"] for t in expected["top_errors"]] == ["Tense", "Article"]
    assert expected["top_errors"][0]["lastSeen"].endswith("Z")
    assert now.astimezone(UTC).isoformat()[:10] in expected["top_errors"][0]["lastSeen"]
