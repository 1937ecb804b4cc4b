"""A small, real world for the cross-app tests (access, fuzz, limits): one of everything."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.management import call_command
from rest_framework.settings import api_settings
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from config.services import api_token_issue
from dialogs import services as dialog_services
from dialogs.models import Dialog
from quizzes import services as quiz_services
from quizzes.models import Participant, Quiz
from quizzes.tests.factories import participant_make, quiz_with_questions
from tutor import taxonomy
from tutor.models import Conversation, Learner, Utterance
from tutor.tests.factories import ConversationFactory, LearnerFactory, UtteranceFactory

ACTORS = ("anonymous", "ingest", "analyst", "staff", "participant", "other_participant")
UTTERANCE_TEXT = "personal utterance: my flat is at 221B Baker Street"
DIALOG_TEXT = "personal dialog: call me on +44 20 7946 0958"


def pytest_ignore_collect(collection_path, config) -> bool:
    """test_fuzz.py loads the API schema when imported (~3 s, schemathesis' lazy loader doesn't
    run on pytest 9); `make test` (-m "not slow") would deselect all of it anyway."""
    return collection_path.name == "test_fuzz.py" and config.getoption("markexpr") == "not slow"


@dataclass
class World:
    learner: Learner
    conversation: Conversation
    utterance: Utterance
    dialog: Dialog
    quiz: Quiz
    other_quiz: Quiz
    participant: Participant
    headers: dict[str, dict[str, str]]  # actor -> request headers

    def client(self, actor: str) -> APIClient:
        client = APIClient()
        client.credentials(**self.headers[actor])
        return client


def _taxonomy_load() -> None:
    call_command(
        "loaddata", "fixtures/tutor_1_taxonomy.json", "fixtures/tutor_2_exercises.json", verbosity=0
    )
    taxonomy.taxonomy_forget()


@pytest.fixture
def world(db) -> World:
    """Learner with a conversation and an utterance, a consented dialog, two open quizzes with a
    participant each (the first one has been served question 1), and a token per role."""
    _taxonomy_load()
    learner = LearnerFactory(email="ada@example.com")
    conversation = ConversationFactory(learner=learner)
    utterance = UtteranceFactory(conversation=conversation, content=UTTERANCE_TEXT)
    dialog = Dialog.objects.create(
        customer_id="c-1", dialog_id="d-1", text=DIALOG_TEXT, language="EN"
    )
    dialog = dialog_services.dialog_consent_record(dialog_id=dialog.dialog_id, granted=True)
    quiz, other_quiz = quiz_with_questions(), quiz_with_questions()
    participant, token = participant_make(quiz=quiz, nickname="ada")
    quiz_services.question_serve(participant=participant)
    _, other_token = participant_make(quiz=other_quiz, nickname="bob")
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    for role in ("ingest", "analyst", "staff"):
        key = api_token_issue(username=f"access-{role}", role=role).key
        headers[role] = {"HTTP_AUTHORIZATION": f"Token {key}"}
    headers["participant"] = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    headers["other_participant"] = {"HTTP_AUTHORIZATION": f"Bearer {other_token}"}
    taxonomy.taxonomy_forget()
    return World(learner, conversation, utterance, dialog, quiz, other_quiz, participant, headers)


@pytest.fixture
def throttle_rates(settings, monkeypatch, fresh_throttle_window):
    """Sets throttle rates the way THROTTLE_* env vars do: `throttle_rates(quiz_join="2/min")`."""

    def _set(**rates: str) -> None:
        current = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {**current, **rates},
        }
        # DRF copies the rates onto the throttle class once, at import (when settings are read
        # from the environment); a settings change needs the same copy.
        monkeypatch.setattr(
            SimpleRateThrottle, "THROTTLE_RATES", api_settings.DEFAULT_THROTTLE_RATES
        )

    return _set
