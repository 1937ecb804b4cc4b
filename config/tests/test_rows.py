"""config/rows.py: hand-written SELECTs give the same instances the ORM loads."""

from __future__ import annotations

import pytest
from django.db import connection

from config import rows
from quizzes.models import Participant, Quiz
from quizzes.tests.factories import participant_make, quiz_with_questions

pytestmark = pytest.mark.django_db


def test_instance_from_columns_equals_the_orm_loaded_one():
    participant, _ = participant_make(quiz=quiz_with_questions(), nickname="ada")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {rows.columns(Participant, 'p')}, {rows.columns(Quiz, 'q')} "
            "FROM quizzes_participant p JOIN quizzes_quiz q ON q.id = p.quiz_id WHERE p.id = %s",
            [participant.pk],
        )
        row = cursor.fetchone()

    built, quiz = rows.instances(row, Participant, Quiz)
    loaded = Participant.objects.select_related("quiz").get(pk=participant.pk)

    fields = [f.attname for f in Participant._meta.concrete_fields]
    assert [getattr(built, f) for f in fields] == [getattr(loaded, f) for f in fields]
    assert [getattr(quiz, f.attname) for f in Quiz._meta.concrete_fields] == [
        getattr(loaded.quiz, f.attname) for f in Quiz._meta.concrete_fields
    ]
    assert (built._state.adding, built._state.db) == (False, "default")


def test_the_all_null_side_of_a_left_join_is_none():
    quiz = quiz_with_questions()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {rows.columns(Quiz, 'q')}, {rows.columns(Participant, 'p')} "
            "FROM quizzes_quiz q LEFT JOIN quizzes_participant p ON p.quiz_id = q.id "
            "WHERE q.id = %s",
            [quiz.pk],
        )
        row = cursor.fetchone()

    found, nobody = rows.instances(row, Quiz, Participant)

    assert (found.pk, nobody) == (quiz.pk, None)
