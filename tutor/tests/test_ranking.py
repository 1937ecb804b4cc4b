import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from tutor import evidence, flush, ranking
from tutor.models import AttemptCount, ErrorCount
from tutor.tests.factories import LearnerErrorFactory
from tutor.tests.helpers import ingest

TODAY = date(2026, 6, 30)
MODEL = ranking.Model(half_life_days=7, practice_effect=0.1)
A, B = 1, 2


def history(errors=(), attempts=()) -> evidence.Evidence:
    """errors: (subcategory, days ago, count); attempts: (subcategory, days ago, n, correct)."""
    found = evidence.Evidence(since=date(2000, 1, 1))
    for sid, ago, n in errors:
        day = TODAY - timedelta(days=ago)
        found.add_errors(sid, day, n, datetime(day.year, day.month, day.day, 12, tzinfo=UTC))
    for sid, ago, n, ok in attempts:
        found.add_attempts(sid, TODAY - timedelta(days=ago), n, ok)
    return found


def order(found: evidence.Evidence) -> list[int]:
    scores = ranking.priority_scores(evidence=found, today=TODAY, model=MODEL)
    return [s.subcategory_id for s in sorted(scores, key=ranking.order_key)]


def score(found: evidence.Evidence, sid: int) -> float:
    scores = ranking.priority_scores(evidence=found, today=TODAY, model=MODEL)
    return next(s.priority for s in scores if s.subcategory_id == sid)


def test_priority_recent_errors_outrank_as_many_old_ones():
    assert order(history(errors=[(A, 20, 5), (B, 1, 5)])) == [B, A]


def test_priority_a_skill_not_seen_for_long_fades_below_a_fresh_one():
    # 10 errors eight weeks ago weigh 10 / 2^8 = 0.04; one error today weighs 1.
    assert order(history(errors=[(A, 56, 10), (B, 0, 1)])) == [B, A]


def test_priority_many_old_errors_still_outweigh_a_single_new_one():
    # 40 errors two weeks ago weigh 40 / 4 = 10.
    assert order(history(errors=[(A, 14, 40), (B, 0, 1)])) == [A, B]


def test_priority_weight_halves_every_half_life():
    evidence = history(errors=[(A, 0, 4), (B, 7, 4)])

    assert score(evidence, A) == 4
    assert score(evidence, B) == 2


def test_priority_correct_practice_lowers_and_wrong_practice_raises():
    base = score(history(errors=[(A, 1, 5)]), A)
    practised_well = score(history(errors=[(A, 1, 5)], attempts=[(A, 0, 3, 3)]), A)
    practised_badly = score(history(errors=[(A, 1, 5)], attempts=[(A, 0, 3, 0)]), A)

    assert practised_well == pytest.approx(base * 0.9**3, abs=1e-3)
    assert practised_badly == pytest.approx(base / 0.9**3, abs=1e-3)


def test_priority_practice_can_reorder_two_equal_errors():
    evidence = history(errors=[(A, 1, 5), (B, 1, 5)], attempts=[(A, 0, 4, 4), (B, 0, 2, 0)])

    assert order(evidence) == [B, A]


def test_priority_old_practice_matters_less_than_recent_practice():
    recent = score(history(errors=[(A, 1, 5)], attempts=[(A, 0, 3, 3)]), A)
    old = score(history(errors=[(A, 1, 5)], attempts=[(A, 21, 3, 3)]), A)

    assert recent < old


def test_priority_ties_go_by_frequency():
    # Same decayed weight (one error today vs two a half-life ago): more errors first.
    assert order(history(errors=[(A, 0, 1), (B, 7, 2)])) == [B, A]


def test_priority_ignores_skills_practised_without_errors():
    assert order(history(errors=[(A, 1, 1)], attempts=[(B, 0, 3, 0)])) == [A]


def test_reason_summary_names_errors_last_seen_practice_and_priority():
    last = datetime(2026, 6, 28, 9, tzinfo=UTC)
    s = ranking.Score(A, errors=3, last_seen=last, attempts=4, correct=3, priority=1.234)

    text = ranking.reason_summary(s, window_days=30, now=datetime(2026, 6, 30, 10, tzinfo=UTC))

    assert text == (
        "3 errors in the last 30 days, last 2 days ago; 3 of 4 exercises correct; priority 1.23"
    )


# --- through the API --------------------------------------------------------------------------


def gen(client, learner, **params):
    return client.get("/api/generate-exercise", {"user_id": str(learner.id), **params})


def _error(learner, sid, days_ago=0, n=1):
    for _ in range(n):
        LearnerErrorFactory(
            learner=learner,
            subcategory_id=sid,
            created_at=timezone.now() - timedelta(days=days_ago),
            uncounted_batch=uuid.uuid4(),
        )


@pytest.mark.django_db
def test_generate_exercise_priority_differs_from_frequency_on_recency(
    analyst_client, tax, sub, learner
):
    _error(learner, sub("Grammar", "Tense"), days_ago=40, n=6)
    _error(learner, sub("Grammar", "Article"), days_ago=0, n=2)

    frequency = gen(analyst_client, learner).json()["top_errors"]
    priority = gen(analyst_client, learner, ranking="priority").json()["top_errors"]

    assert [t["errorSubCategory"] for t in frequency] == ["Tense", "Article"]
    assert [t["errorSubCategory"] for t in priority] == ["Article", "Tense"]
    assert frequency[0]["reason"]["priority"] is None
    assert priority[0]["reason"]["priority"] == pytest.approx(2.0)


@pytest.mark.django_db
def test_generate_exercise_reason_carries_window_errors_last_seen_and_accuracy(
    analyst_client, ingest_client, tax, sub, learner
):
    _error(learner, sub("Grammar", "Tense"), n=3)
    exercise = tax.pool[sub("Grammar", "Tense")][0]
    for correct in (True, False):
        body = {"user_id": str(learner.id), "exercise_id": exercise.id, "correct": correct}
        ingest_client.post("/api/exercise-attempts", body, format="json")

    (top,) = gen(analyst_client, learner, ranking="priority", last_n_days=7).json()["top_errors"]

    reason = top["reason"]
    assert reason["errors"] == top["errorFrequency"] == 3
    assert reason["window_days"] == 7
    assert reason["last_seen"] == top["lastSeen"]
    assert (reason["attempts"], reason["correct"], reason["accuracy"]) == (2, 1, 0.5)
    assert reason["priority"] == pytest.approx(3.0)  # one right, one wrong: they cancel
    assert reason["summary"].startswith("3 errors in the last 7 days, last today")


@pytest.mark.django_db
def test_generate_exercise_priority_counts_an_error_right_after_its_201_and_after_flush(
    analyst_client, tax, conversation, django_capture_on_commit_callbacks
):
    labels = [("Grammar", "Preposition")]
    ingest(django_capture_on_commit_callbacks, conversation=conversation, labels=labels)
    learner = conversation.learner

    before = gen(analyst_client, learner, ranking="priority").json()["top_errors"]
    flush.error_counts_flush()
    ingest(django_capture_on_commit_callbacks, conversation=conversation, labels=labels)
    after = gen(analyst_client, learner, ranking="priority").json()["top_errors"]

    assert [(t["errorSubCategory"], t["errorFrequency"]) for t in before] == [("Preposition", 1)]
    assert [(t["errorSubCategory"], t["errorFrequency"]) for t in after] == [("Preposition", 2)]


@pytest.mark.django_db
def test_generate_exercise_unknown_ranking_is_400_and_unknown_user_404(analyst_client, learner):
    bad = gen(analyst_client, learner, ranking="magic")
    missing = analyst_client.get(
        "/api/generate-exercise", {"user_id": str(uuid.uuid4()), "ranking": "priority"}
    )

    assert bad.status_code == 400
    assert {e["attr"] for e in bad.json()["errors"]} == {"ranking"}
    assert missing.status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["frequency", "priority"])
def test_generate_exercise_query_count_is_flat_for_both_rankings(
    analyst_client, tax, sub, learner, name, django_assert_num_queries
):
    _error(learner, sub("Grammar", "Tense"), n=2)
    _error(learner, sub("Grammar", "Article"), days_ago=3)
    AttemptCount.objects.create(
        learner=learner, subcategory_id=sub("Grammar", "Tense"), day=timezone.now().date(),
        attempts=3, correct=2, last_at=timezone.now(),
    )  # fmt: skip
    gen(analyst_client, learner, ranking=name)  # warm caches

    with django_assert_num_queries(2):  # evidence (one statement) + rotation state (one)
        top = gen(analyst_client, learner, ranking=name, last_n_days=30).json()["top_errors"]

    assert top[0]["reason"]["attempts"] == 3


@pytest.mark.django_db
def test_priority_sums_aggregated_by_postgres_match_the_python_model(tax, sub, learner):
    tense, now = sub("Grammar", "Tense"), timezone.now()
    today = now.astimezone(UTC).date()
    for days, n in [(3, 2), (10, 5)]:
        ErrorCount.objects.create(
            learner=learner, subcategory_id=tense, day=today - timedelta(days=days), count=n,
            last_seen=now - timedelta(days=days),
        )  # fmt: skip
    _error(learner, tense, n=2)  # uncounted rows: today
    AttemptCount.objects.create(
        learner=learner, subcategory_id=tense, day=today - timedelta(days=1), attempts=3,
        correct=1, last_at=now,
    )  # fmt: skip
    since = today - timedelta(days=29)

    sql = evidence.learner_sums(learner_id=learner.id, since=since, today=today, model=MODEL)
    per_day = evidence.learner_evidence(learner_id=learner.id, since=since)
    python = ranking.sums_from_evidence(evidence=per_day, today=today, model=MODEL)

    assert sql[tense].errors == python[tense].errors == 9
    assert sql[tense].decayed_errors == pytest.approx(python[tense].decayed_errors)
    assert sql[tense].decayed_errors == pytest.approx(2 + 2 * 0.5 ** (3 / 7) + 5 * 0.5 ** (10 / 7))
    assert sql[tense].balance == pytest.approx(python[tense].balance)
    assert sql[tense].balance == pytest.approx(-(0.5 ** (1 / 7)))
