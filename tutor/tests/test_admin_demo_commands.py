import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from tutor import demo
from tutor.models import ErrorCount, ErrorSubcategory, Exercise, Learner, LearnerError
from tutor.tests.factories import LearnerErrorFactory, UtteranceFactory

pytestmark = pytest.mark.django_db

MODELS = [
    "learner",
    "conversation",
    "utterance",
    "errorcategory",
    "errorsubcategory",
    "exercise",
    "learnererror",
    "errorcount",
    "flushledger",
]


@pytest.mark.parametrize("model", MODELS)
def test_admin_changelist_renders(admin_client, tax, model):
    UtteranceFactory()

    response = admin_client.get(reverse(f"admin:tutor_{model}_changelist"))

    assert response.status_code == 200


def test_fixtures_cover_the_required_taxonomy_with_three_exercises_each(tax):
    required = {
        "Grammar": [
            "Pronoun",
            "Adverb",
            "Tense",
            "Subject_Verb_Agreement",
            "Determiner",
            "Preposition",
            "Verb_Form",
            "Noun_Number",
            "Word_Order",
            "Spelling",
        ],
        "Vocabulary": ["Wrong_Word", "Apostrophe", "Plural"],
        "Pronunciation": ["Mispronounced_Syllable", "Mispronounced_Word"],
        "Fluency/Content": ["Incoherent", "Repetition", "Lack_of_Content"],
    }
    present = set(ErrorSubcategory.objects.values_list("category__name", "name"))

    assert {(c, s) for c, subs in required.items() for s in subs} <= present
    for subcategory in ErrorSubcategory.objects.all():
        assert Exercise.objects.filter(subcategory=subcategory).count() >= 3, subcategory


def test_demo_seed_is_idempotent_and_prints_the_call(tax):
    first = demo.seed()
    second = demo.seed()

    learner = Learner.objects.get(username=demo.USERNAME)
    assert first == second
    assert any(f"user_id={learner.id}" in line and "generate-exercise" in line for line in first)
    assert LearnerError.objects.filter(learner=learner).count() == len(demo.DEMO_ERRORS)


def test_rebuild_error_counts_command_recomputes_from_rows(tax, sub):
    row = LearnerErrorFactory(subcategory_id=sub("Grammar", "Tense"))
    out = io.StringIO()

    call_command("rebuild_error_counts", stdout=out)

    count = ErrorCount.objects.get()
    assert (count.learner_id, count.count) == (row.learner_id, 1)
    assert "rebuilt 1 aggregate rows" in out.getvalue()
