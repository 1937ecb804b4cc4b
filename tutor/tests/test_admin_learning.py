import re
import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tutor.models import ErrorCount, ErrorSubcategory, Exercise, ExerciseAttempt
from tutor.tests.factories import LearnerErrorFactory, LearnerFactory

pytestmark = pytest.mark.django_db


def test_fixtures_have_six_levelled_explained_exercises_per_subcategory(tax):
    for subcategory in ErrorSubcategory.objects.all():
        exercises = Exercise.objects.filter(subcategory=subcategory)
        assert exercises.count() >= 6, subcategory
        for exercise in exercises:
            assert exercise.level in {"A2", "B1", "B2", "C1"}, exercise
            assert exercise.answer.strip(), exercise
            assert exercise.explanation.strip(), exercise


def test_learner_admin_page_shows_a_server_rendered_chart_and_attempts(admin_client, tax, sub):
    learner = LearnerFactory(username="chart<me>")
    for name, days in [("Tense", 0), ("Tense", 2), ("Article", 5)]:
        LearnerErrorFactory(
            learner=learner,
            subcategory_id=sub("Grammar", name),
            created_at=timezone.now() - timedelta(days=days),
            uncounted_batch=uuid.uuid4(),
        )
    exercise = tax.pool[sub("Grammar", "Tense")][0]
    ExerciseAttempt.objects.create(
        learner=learner, exercise_id=exercise.id, subcategory_id=sub("Grammar", "Tense"),
        correct=True, answer="had gone", created_at=timezone.now(),
    )  # fmt: skip

    page = admin_client.get(reverse("admin:tutor_learner_change", args=[learner.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    svg = re.search(r'<svg [^>]*role="img".*?</svg>', html, re.S).group(0)
    assert len(re.findall(r"<polyline ", svg)) == 2
    assert "Grammar / Tense: 2 errors" in svg
    assert "<script" not in svg
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")  # nothing fetched
    assert exercise.title in html  # the attempts inline
    assert "had gone" in html


def test_learner_admin_chart_without_errors_says_so(admin_client, tax):
    learner = LearnerFactory()

    page = admin_client.get(reverse("admin:tutor_learner_change", args=[learner.pk]))

    assert "No errors in the last 30 days." in page.content.decode()


def test_attempt_admin_changelist_renders(admin_client, tax):
    assert admin_client.get(reverse("admin:tutor_exerciseattempt_changelist")).status_code == 200


def test_error_counts_are_view_only_in_admin(admin_client, tax, sub):
    learner = LearnerFactory()
    row = ErrorCount.objects.create(
        learner=learner, subcategory_id=sub("Grammar", "Tense"), day=timezone.now().date(),
        count=3, last_seen=timezone.now(),
    )  # fmt: skip

    assert admin_client.get(reverse("admin:tutor_errorcount_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:tutor_errorcount_add")).status_code == 403
    change = reverse("admin:tutor_errorcount_change", args=[row.pk])
    admin_client.post(change, {"count": 999, "day": row.day, "learner": learner.pk})
    assert (
        admin_client.get(reverse("admin:tutor_errorcount_delete", args=[row.pk])).status_code == 403
    )
    row.refresh_from_db()
    assert row.count == 3


def test_attempts_cannot_be_deleted_in_admin(admin_client, tax, sub):
    learner = LearnerFactory()
    attempt = ExerciseAttempt.objects.create(
        learner=learner, exercise_id=tax.pool[sub("Grammar", "Tense")][0].id,
        subcategory_id=sub("Grammar", "Tense"), correct=True, created_at=timezone.now(),
    )  # fmt: skip

    url = reverse("admin:tutor_exerciseattempt_delete", args=[attempt.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert ExerciseAttempt.objects.filter(pk=attempt.pk).exists()
