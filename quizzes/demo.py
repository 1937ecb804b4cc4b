"""`make run` demo: an open vocabulary quiz with a fixed code. Idempotent."""

from __future__ import annotations

import os

from django.contrib.auth import get_user_model
from django.db import transaction

from quizzes import services
from quizzes.models import Quiz

DEMO_CODE = "VERB23"  # only characters of CODE_ALPHABET
QUESTIONS = [
    ("Which word means 'very tired'?", ["exhausted", "excited", "exhaustive", "extended"], 0),
    ("The opposite of 'generous' is…", ["gentle", "stingy", "genuine", "grateful"], 1),
    (
        "'To postpone' a meeting means to…",
        ["cancel it", "move it earlier", "delay it", "end it"],
        2,
    ),
    ("Pick the synonym of 'reluctant'.", ["eager", "unwilling", "relevant", "reliable"], 1),
    ("A 'bargain' is…", ["an argument", "a loud noise", "a small boat", "something cheap"], 3),
]


@transaction.atomic
def seed() -> list[str]:
    if not Quiz.objects.filter(code=DEMO_CODE).exists():
        users = get_user_model().objects
        author = users.filter(username="admin").first()
        if author is None:
            author, _ = users.get_or_create(
                username="demo-quizmaster", defaults={"is_active": False}
            )
        quiz = services.quiz_create(
            author=author,
            title="Everyday English vocabulary",
            description="Five quick questions. Faster correct answers earn more points.",
            questions=[
                {"text": text, "time_limit": 20,
                 "choices": [{"text": c, "correct": i == right} for i, c in enumerate(choices)]}
                for text, choices, right in QUESTIONS
            ],
        )  # fmt: skip
        Quiz.objects.filter(pk=quiz.pk).update(code=DEMO_CODE)
        services.quiz_status_set(code=DEMO_CODE, status=Quiz.Status.OPEN)
    base = f"http://localhost:{os.environ.get('PORT', '8000')}"
    return [
        f"quizzes: play at {base}/quizzes/{DEMO_CODE}/",
        f"quizzes: big-screen leaderboard at {base}/quizzes/{DEMO_CODE}/board",
        f"  curl -X POST {base}/api/quizzes/{DEMO_CODE}/join "
        '-H "Content-Type: application/json" -d \'{"nickname": "ada"}\'',
    ]
