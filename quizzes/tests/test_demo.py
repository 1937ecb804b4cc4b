import pytest

from quizzes import demo
from quizzes.models import Quiz

pytestmark = pytest.mark.django_db


def test_demo_seed_opens_one_quiz_idempotently():
    first = demo.seed()
    second = demo.seed()

    quiz = Quiz.objects.get()
    assert quiz.code == demo.DEMO_CODE
    assert quiz.status == "open"
    assert quiz.questions.count() == 5
    assert all(q.choices.filter(correct=True).count() == 1 for q in quiz.questions.all())
    assert first == second
    assert f"/quizzes/{demo.DEMO_CODE}/" in first[0]


def test_demo_seed_credits_admin_when_present(django_user_model):
    django_user_model.objects.create_user("admin")

    demo.seed()

    assert Quiz.objects.get().author.username == "admin"
