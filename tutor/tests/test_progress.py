import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from tutor import flush, progress
from tutor.models import AttemptCount
from tutor.tests.factories import LearnerErrorFactory

pytestmark = pytest.mark.django_db


def _error(learner, sid, day: date, n=1):
    for _ in range(n):
        LearnerErrorFactory(
            learner=learner,
            subcategory_id=sid,
            created_at=datetime(day.year, day.month, day.day, 12, tzinfo=UTC),
            uncounted_batch=uuid.uuid4(),
        )


def today() -> date:
    return timezone.now().astimezone(UTC).date()


def test_progress_zero_fills_every_day_and_compares_with_the_previous_window(tax, sub, learner):
    t = today()
    tense = sub("Grammar", "Tense")
    _error(learner, tense, t, n=2)
    _error(learner, tense, t - timedelta(days=3))
    _error(learner, tense, t - timedelta(days=9), n=5)  # the previous 7-day window
    flush.error_counts_flush()  # the oldest come from the aggregates, today's stay pending
    _error(learner, tense, t)

    found = progress.progress_get(learner_id=learner.id, last_n_days=7, today=t)

    assert found.days == [t - timedelta(days=6 - i) for i in range(7)]
    (item,) = found.subcategories
    assert item.daily == [0, 0, 0, 1, 0, 0, 3]
    assert (item.errors, item.previous_errors, item.trend) == (4, 5, "improving")
    assert item.change == pytest.approx(-0.2)


@pytest.mark.parametrize(
    ("current", "previous", "expected"),
    [(3, 0, "new"), (0, 0, "steady"), (2, 2, "steady"), (5, 2, "worsening"), (1, 4, "improving")],
)
def test_progress_trend(current, previous, expected):
    assert progress.trend(current, previous) == expected


def test_progress_accuracy_counts_this_window_only(tax, sub, learner):
    t = today()
    tense = sub("Grammar", "Tense")
    for day, attempts, correct in [(t, 4, 3), (t - timedelta(days=40), 5, 0)]:
        AttemptCount.objects.create(
            learner=learner, subcategory_id=tense, day=day, attempts=attempts, correct=correct,
            last_at=timezone.now(),
        )  # fmt: skip

    (item,) = progress.progress_get(learner_id=learner.id, last_n_days=30, today=t).subcategories

    assert (item.attempts, item.correct, item.accuracy) == (4, 3, 0.75)
    assert item.errors == 0


def test_progress_api_shape_and_errors(analyst_client, ingest_client, tax, sub, learner):
    _error(learner, sub("Grammar", "Article"), today())

    response = analyst_client.get(f"/api/users/{learner.id}/progress", {"last_n_days": 14})

    assert response.status_code == 200
    body = response.json()
    assert body["last_n_days"] == 14
    assert len(body["days"]) == 14
    assert body["days"][-1] == today().isoformat()
    (item,) = body["subcategories"]
    assert item["errorSubCategory"] == "Article"
    assert item["daily"] == [0] * 13 + [1]
    assert item["trend"] == "new"
    assert analyst_client.get(f"/api/users/{uuid.uuid4()}/progress").status_code == 404
    bad = analyst_client.get(f"/api/users/{learner.id}/progress", {"last_n_days": 0})
    assert bad.status_code == 400
    assert {e["attr"] for e in bad.json()["errors"]} == {"last_n_days"}
    assert ingest_client.get(f"/api/users/{learner.id}/progress").status_code == 403


def test_progress_api_query_count_is_flat(
    analyst_client, tax, sub, learner, django_assert_num_queries
):
    for days in range(20):
        _error(learner, sub("Grammar", "Tense"), today() - timedelta(days=days))
    flush.error_counts_flush()
    analyst_client.get(f"/api/users/{learner.id}/progress")  # warm caches

    with django_assert_num_queries(1):  # learner + aggregates + uncounted + ledger + attempts
        response = analyst_client.get(f"/api/users/{learner.id}/progress")

    assert sum(response.json()["subcategories"][0]["daily"]) == 20
