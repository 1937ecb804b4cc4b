"""Demo learner for `make run`: recent errors so generate-exercise shows real recommendations."""

import os
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from tutor.models import Conversation, ErrorSubcategory, Learner, LearnerError, Utterance

USERNAME = "demo-learner"

# (days ago, category, subcategory, utterance)
DEMO_ERRORS = [
    (0, "Grammar", "Subject_Verb_Agreement", "She go to work by bus every day."),
    (0, "Grammar", "Preposition", "I am interested for learning Python."),
    (1, "Grammar", "Subject_Verb_Agreement", "My manager want the report on Friday."),
    (1, "Grammar", "Tense", "Yesterday I have finished the project."),
    (2, "Grammar", "Subject_Verb_Agreement", "The list of tasks are on the board."),
    (2, "Vocabulary", "Wrong_Word", "Can you borrow me your charger?"),
    (3, "Grammar", "Preposition", "We discussed about the budget."),
    (4, "Grammar", "Tense", "I live here since 2019."),
    (5, "Pronunciation", "Mispronounced_Word", "I need a receipt (pronounced re-SEPT-t)."),
]


@transaction.atomic
def seed() -> list[str]:
    """Idempotent: the learner's demo history is written once; the curl line is always printed."""
    learner, created = Learner.objects.get_or_create(
        username=USERNAME,
        defaults={
            "email": "demo-learner@example.com",
            "first_name": "Demo",
            "last_name": "Learner",
        },
    )
    if created:
        _history(learner)
    base = f"http://localhost:{os.environ.get('PORT', '8000')}"
    query = f"user_id={learner.id}&top_n_errors=3&last_n_days=7"
    return [
        f"tutor: demo learner {learner.username} id {learner.id}",
        "tutor: curl -H 'Authorization: Token <analyst token>' "
        f"'{base}/api/generate-exercise?{query}'",
    ]


def _history(learner: Learner) -> None:
    """Rows only, marked uncounted: the first flush folds them into the aggregates, and
    generate-exercise counts them right away, with or without Redis."""
    subs = {
        (s.category.name, s.name): s for s in ErrorSubcategory.objects.select_related("category")
    }
    conversation = Conversation.objects.create(learner=learner)
    now = timezone.now()
    for days_ago, category, name, text in DEMO_ERRORS:
        sub = subs.get((category, name))
        if sub is None:  # taxonomy fixture not loaded
            continue
        at = now - timedelta(days=days_ago, minutes=5)
        utterance = Utterance.objects.create(
            conversation=conversation, learner=learner, content=text, created_at=at
        )
        LearnerError.objects.create(
            learner=learner,
            utterance=utterance,
            subcategory=sub,
            created_at=at,
            uncounted_batch=utterance.id,
        )
