import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from tutor import rotation
from tutor.models import ExerciseAttempt, Learner
from tutor.taxonomy import ExerciseCard
from tutor.tests.factories import LearnerErrorFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def cards(*levels: str) -> list[ExerciseCard]:
    return [ExerciseCard(i, f"ex{i}", "", "", "easy", level) for i, level in enumerate(levels, 1)]


def choose(pool, seen=None, level="", count=2):
    practice = rotation.Practice(level=level, seen=seen or {})
    return [c.id for c in rotation.exercises_choose(cards=pool, practice=practice, now=NOW,
                                                    count=count)]  # fmt: skip


def ago(days: float):
    return NOW - timedelta(days=days)


def test_rotation_offers_unseen_exercises_first_in_taxonomy_order():
    pool = cards("B1", "B1", "B1", "B1")

    assert choose(pool, {1: (ago(5), None), 2: (ago(6), ago(6))}) == [3, 4]


def test_rotation_then_least_recently_attempted():
    pool = cards("B1", "B1", "B1")
    seen = {1: (ago(1), None), 2: (ago(9), None), 3: (ago(4), None)}

    assert choose(pool, seen, count=3) == [2, 3, 1]


def test_rotation_holds_back_recently_correct_while_others_remain(settings):
    settings.TUTOR_REPEAT_AFTER_DAYS = 3
    pool = cards("B1", "B1", "B1")
    # 1: correct 2 days ago (held back), 2: wrong yesterday, 3: correct 5 days ago (free again).
    seen = {1: (ago(2), ago(2)), 2: (ago(1), None), 3: (ago(5), ago(5))}

    assert choose(pool, seen, count=2) == [3, 2]
    assert choose(pool, seen, count=3)[-1] == 1  # offered only once nothing else is left


def test_rotation_when_all_are_mastered_still_offers_the_oldest():
    pool = cards("B1", "B1")

    assert choose(pool, {1: (ago(1), ago(1)), 2: (ago(2), ago(2))}, count=1) == [2]


def test_rotation_puts_exercises_near_the_learner_level_first():
    pool = cards("A2", "B1", "B2", "C1")

    assert choose(pool, level="C1") == [4, 3]
    assert choose(pool, level="A1") == [1, 2]
    assert choose(pool) == [1, 2]  # no level: the taxonomy's order, easiest first


def test_rotation_is_deterministic_for_a_history():
    pool = cards("A2", "B1", "B1", "B2", "C1", "A2")
    seen = {2: (ago(3), None), 5: (ago(1), ago(1))}

    assert {tuple(choose(pool, dict(seen), level="B1")) for _ in range(20)} == {(3, 1)}


# --- through the API --------------------------------------------------------------------------


def _exercises(analyst_client, learner):
    body = analyst_client.get("/api/generate-exercise", {"user_id": str(learner.id)}).json()
    return [e["id"] for e in body["top_errors"][0]["exercises"]]


def test_generate_exercise_rotates_after_attempts(analyst_client, ingest_client, tax, sub, learner):
    LearnerErrorFactory(
        learner=learner, subcategory_id=sub("Grammar", "Tense"), uncounted_batch=uuid.uuid4()
    )
    pool = [c.id for c in tax.pool[sub("Grammar", "Tense")]]
    first = _exercises(analyst_client, learner)

    for exercise_id in first:
        body = {"user_id": str(learner.id), "exercise_id": exercise_id, "correct": True}
        assert ingest_client.post("/api/exercise-attempts", body, format="json").status_code == 201
    second = _exercises(analyst_client, learner)

    assert first == pool[:2]
    assert second == pool[2:4]
    assert second == _exercises(analyst_client, learner)  # deterministic


def test_generate_exercise_prefers_the_learner_level(analyst_client, tax, sub, learner):
    Learner.objects.filter(pk=learner.pk).update(level="C1")
    LearnerErrorFactory(
        learner=learner, subcategory_id=sub("Grammar", "Tense"), uncounted_batch=uuid.uuid4()
    )

    chosen = _exercises(analyst_client, learner)

    levels = {c.id: c.level for c in tax.pool[sub("Grammar", "Tense")]}
    assert levels[chosen[0]] == "C1"


def test_practice_get_reads_last_and_last_correct_per_exercise(tax, sub, learner):
    exercise = tax.pool[sub("Grammar", "Tense")][0]
    for days, correct in [(5, True), (2, False)]:
        ExerciseAttempt.objects.create(
            learner=learner,
            exercise_id=exercise.id,
            subcategory_id=sub("Grammar", "Tense"),
            correct=correct,
            created_at=ago(days),
        )

    practice = rotation.practice_get(learner_id=learner.id, exercise_ids=[exercise.id])

    assert practice.seen[exercise.id] == (ago(2), ago(5))
