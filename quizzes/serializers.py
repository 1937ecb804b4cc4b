"""API shapes. Named, not nested `InputSerializer`s: the OpenAPI schema needs unique names.

Only the Staff* shapes carry `correct`; everything a participant sees comes from Public* shapes.
"""

from __future__ import annotations

from rest_framework import serializers

from quizzes.models import MAX_CHOICES, Quiz, choice_set_error

MAX_QUESTIONS = 100  # keeps a full score inside the leaderboard's encoding (leaderboard.py)


class StaffChoiceInput(serializers.Serializer):
    text = serializers.CharField(max_length=200)
    correct = serializers.BooleanField(default=False)


class StaffQuestionInput(serializers.Serializer):
    text = serializers.CharField(max_length=500)
    time_limit = serializers.IntegerField(min_value=1, max_value=3600, default=20)
    choices = StaffChoiceInput(many=True, max_length=MAX_CHOICES + 10)

    def validate_choices(self, choices: list[dict]) -> list[dict]:
        error = choice_set_error(count=len(choices), correct=sum(c["correct"] for c in choices))
        if error:
            raise serializers.ValidationError(error, code="invalid_choices")
        return choices


class StaffQuizInput(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(allow_blank=True, default="")
    questions = StaffQuestionInput(many=True, min_length=1, max_length=MAX_QUESTIONS)


class StaffQuizPatchInput(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(allow_blank=True, required=False)
    status = serializers.ChoiceField(choices=Quiz.Status.choices, required=False)
    questions = StaffQuestionInput(
        many=True, min_length=1, max_length=MAX_QUESTIONS, required=False
    )


class PublicChoiceOutput(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()


class PublicQuestionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    order = serializers.IntegerField()
    text = serializers.CharField()
    time_limit = serializers.IntegerField()
    choices = PublicChoiceOutput(many=True, source="choices.all")


class PublicQuizOutput(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    status = serializers.ChoiceField(choices=Quiz.Status.choices)
    questions = PublicQuestionOutput(many=True, source="questions.all")


# Staff shapes are the public ones plus the answer key and the authoring fields.
class StaffChoiceOutput(PublicChoiceOutput):
    correct = serializers.BooleanField()


class StaffQuestionOutput(PublicQuestionOutput):
    choices = StaffChoiceOutput(many=True, source="choices.all")


class StaffQuizListOutput(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=Quiz.Status.choices)
    author = serializers.CharField(source="author.username")
    created_at = serializers.DateTimeField()
    question_count = serializers.IntegerField()
    participant_count = serializers.IntegerField()


class StaffQuizOutput(PublicQuizOutput):
    author = serializers.CharField(source="author.username")
    created_at = serializers.DateTimeField()
    opened_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    questions = StaffQuestionOutput(many=True, source="questions.all")


class JoinInput(serializers.Serializer):
    nickname = serializers.CharField(max_length=40, required=False)


class JoinOutput(serializers.Serializer):
    participant_id = serializers.IntegerField()
    nickname = serializers.CharField()
    token = serializers.CharField(help_text="Bearer token for this participant; keep it.")
    score = serializers.IntegerField()
    answered = serializers.IntegerField()
    quiz = PublicQuizOutput()
    websocket_url = serializers.CharField()


class NextQuestionOutput(serializers.Serializer):
    id = serializers.IntegerField(source="question.id")
    text = serializers.CharField(source="question.text")
    time_limit = serializers.IntegerField(source="question.time_limit")
    choices = PublicChoiceOutput(many=True, source="question.choices.all")
    served_at = serializers.DateTimeField()
    remaining = serializers.FloatField(help_text="Seconds left, by the server's clock.")
    number = serializers.IntegerField(help_text="1-based position of this question.")
    total = serializers.IntegerField()


MAX_ID = 2**63 - 1  # bigint: larger ids would be a database error, not a 404


class AnswerInput(serializers.Serializer):
    question_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    choice_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)


class AnswerOutput(serializers.Serializer):
    correct = serializers.BooleanField()
    late = serializers.BooleanField(help_text="Answered after the time limit: 0 points.")
    points = serializers.IntegerField()
    score = serializers.IntegerField()
    answered = serializers.IntegerField()
    rank = serializers.IntegerField()


class LeaderboardQuery(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=100, default=10)


class LeaderboardEntry(serializers.Serializer):
    rank = serializers.IntegerField()
    nickname = serializers.CharField()
    score = serializers.IntegerField()
    answered = serializers.IntegerField()


class LeaderboardMe(serializers.Serializer):
    participant_id = serializers.IntegerField()
    nickname = serializers.CharField()
    score = serializers.IntegerField()
    answered = serializers.IntegerField()
    rank = serializers.IntegerField()


class LeaderboardOutput(serializers.Serializer):
    quiz = serializers.CharField()
    status = serializers.ChoiceField(choices=Quiz.Status.choices)
    participants = serializers.IntegerField()
    entries = LeaderboardEntry(many=True)
    me = LeaderboardMe(required=False)
