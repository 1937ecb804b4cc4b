"""API shapes. Named, not nested `InputSerializer`s: the OpenAPI schema needs unique names.

Only the Staff* shapes carry `correct`; everything a participant sees comes from Public* shapes.
"""

from __future__ import annotations

from rest_framework import serializers

from quizzes.models import MAX_CHOICES, Answer, Quiz, choice_set_error

MAX_QUESTIONS = 100  # keeps a full score inside the leaderboard's encoding (leaderboard.py)


class StaffChoiceInput(serializers.Serializer):
    text = serializers.CharField(max_length=200)
    correct = serializers.BooleanField(default=False)


class StaffQuestionInput(serializers.Serializer):
    text = serializers.CharField(max_length=500)
    time_limit = serializers.IntegerField(min_value=1, max_value=3600, default=20)
    # many=True hands min/max_length to the ListSerializer; the stubs type only the child's init.
    choices = StaffChoiceInput(many=True, max_length=MAX_CHOICES + 10)  # type: ignore[call-arg]

    def validate_choices(self, choices: list[dict]) -> list[dict]:
        error = choice_set_error(count=len(choices), correct=sum(c["correct"] for c in choices))
        if error:
            raise serializers.ValidationError(error, code="invalid_choices")
        return choices


HOSTED_SETTINGS = ("close_when_all_answered", "auto_reveal", "late_join")


class StaffQuizInput(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(allow_blank=True, default="")
    mode = serializers.ChoiceField(choices=Quiz.Mode.choices, default=Quiz.Mode.SELF_PACED)
    close_when_all_answered = serializers.BooleanField(
        default=True, help_text="Hosted: close a question once every player has answered."
    )
    auto_reveal = serializers.BooleanField(
        default=True, help_text="Hosted: reveal as soon as a question closes (else on `reveal`)."
    )
    late_join = serializers.BooleanField(
        default=True, help_text="Hosted: players may join after the start, with 0 points."
    )
    # min/max_length go to the ListSerializer, untyped in the stubs (see StaffQuestionInput).
    questions = StaffQuestionInput(many=True, min_length=1, max_length=MAX_QUESTIONS)  # type: ignore[call-arg]


class StaffQuizPatchInput(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(allow_blank=True, required=False)
    mode = serializers.ChoiceField(
        choices=Quiz.Mode.choices, required=False, help_text="Only while draft."
    )
    close_when_all_answered = serializers.BooleanField(required=False)
    auto_reveal = serializers.BooleanField(required=False)
    late_join = serializers.BooleanField(required=False)
    status = serializers.ChoiceField(choices=Quiz.Status.choices, required=False)
    questions = StaffQuestionInput(  # type: ignore[call-arg]  # as in StaffQuizInput.questions
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
    mode = serializers.ChoiceField(choices=Quiz.Mode.choices)
    author = serializers.CharField(source="author.username")
    created_at = serializers.DateTimeField()
    question_count = serializers.IntegerField()
    participant_count = serializers.IntegerField()


class StaffQuizOutput(PublicQuizOutput):
    author = serializers.CharField(source="author.username")
    created_at = serializers.DateTimeField()
    opened_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    mode = serializers.ChoiceField(choices=Quiz.Mode.choices)
    close_when_all_answered = serializers.BooleanField()
    auto_reveal = serializers.BooleanField()
    late_join = serializers.BooleanField()
    phase = serializers.ChoiceField(choices=Quiz.Phase.choices, help_text="Hosted games only.")
    questions = StaffQuestionOutput(many=True, source="questions.all")


class JoinInput(serializers.Serializer):
    nickname = serializers.CharField(max_length=40, required=False)


class JoinQuizOutput(serializers.Serializer):
    """No questions: a question's text is shown only when it is served (or opened, if hosted)."""

    code = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    status = serializers.ChoiceField(choices=Quiz.Status.choices)
    mode = serializers.ChoiceField(choices=Quiz.Mode.choices)
    question_count = serializers.IntegerField()


class JoinOutput(serializers.Serializer):
    participant_id = serializers.IntegerField()
    nickname = serializers.CharField()
    token = serializers.CharField(help_text="Bearer token for this participant; keep it.")
    score = serializers.IntegerField()
    answered = serializers.IntegerField()
    quiz = JoinQuizOutput()
    websocket_url = serializers.CharField()


class NextQuestionOutput(serializers.Serializer):
    id = serializers.IntegerField(source="question.id")
    text = serializers.CharField(source="question.text")
    time_limit = serializers.IntegerField(source="question.time_limit")
    choices = PublicChoiceOutput(many=True)
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


# --- Hosted games: the shapes of quizzes/gamestate.py (REST and websocket alike) ---------------


class GameChoiceCount(serializers.Serializer):
    choice_id = serializers.IntegerField()
    count = serializers.IntegerField()


class GameReveal(serializers.Serializer):
    correct_choice_id = serializers.IntegerField()
    counts = GameChoiceCount(many=True, help_text="Answers per choice, in choice order.")


class GameYouAnswer(serializers.Serializer):
    question_id = serializers.IntegerField()
    choice_id = serializers.IntegerField()
    correct = serializers.BooleanField(required=False, help_text="From the reveal on.")
    points = serializers.IntegerField(required=False, help_text="From the reveal on.")


class GameYou(serializers.Serializer):
    version = serializers.IntegerField()
    participant_id = serializers.IntegerField()
    nickname = serializers.CharField()
    score = serializers.IntegerField(help_text="Points of revealed questions.")
    rank = serializers.IntegerField(allow_null=True)
    answer = GameYouAnswer(allow_null=True, help_text="Your answer to the current question.")


class GameStateOutput(serializers.Serializer):
    quiz = serializers.CharField()
    version = serializers.IntegerField(help_text="Grows with every change: keep the highest.")
    phase = serializers.ChoiceField(choices=Quiz.Phase.choices)
    status = serializers.ChoiceField(choices=Quiz.Status.choices)
    number = serializers.IntegerField(allow_null=True, help_text="1-based current question.")
    total = serializers.IntegerField()
    players = serializers.IntegerField()
    late_join = serializers.BooleanField()
    auto_reveal = serializers.BooleanField()
    question = PublicQuestionOutput(allow_null=True, help_text="In `question` and `reveal`.")
    answered = serializers.IntegerField(allow_null=True, help_text="Answers to the question.")
    deadline = serializers.DateTimeField(allow_null=True)
    remaining = serializers.FloatField(allow_null=True, help_text="Seconds, server clock.")
    accepting = serializers.BooleanField(help_text="The question still takes answers.")
    reveal = GameReveal(allow_null=True)
    leaderboard = LeaderboardEntry(many=True, allow_null=True)
    podium = LeaderboardEntry(many=True, allow_null=True, help_text="Top 3, when finished.")
    you = GameYou(required=False, help_text="With a participant token of this quiz.")


class GameAnswerOutput(serializers.Serializer):
    question_id = serializers.IntegerField()
    choice_id = serializers.IntegerField()
    locked_in = serializers.BooleanField(help_text="Always true; the result comes at the reveal.")


class ResultAnswer(serializers.Serializer):
    question_id = serializers.IntegerField()
    choice_id = serializers.IntegerField(allow_null=True)
    choice = serializers.CharField(allow_null=True)
    correct = serializers.BooleanField(allow_null=True)
    result = serializers.ChoiceField(choices=Answer.Result.choices, allow_null=True)
    points = serializers.IntegerField()
    response_ms = serializers.IntegerField(allow_null=True, help_text="From serve/open.")


class ResultPlayer(serializers.Serializer):
    rank = serializers.IntegerField()
    participant_id = serializers.IntegerField()
    nickname = serializers.CharField()
    score = serializers.IntegerField()
    answers = ResultAnswer(many=True, help_text="One per question, in question order.")


class ResultQuestion(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField()
    text = serializers.CharField()


class ResultsOutput(serializers.Serializer):
    quiz = serializers.CharField()
    title = serializers.CharField()
    mode = serializers.ChoiceField(choices=Quiz.Mode.choices)
    status = serializers.ChoiceField(choices=Quiz.Status.choices)
    questions = ResultQuestion(many=True)
    players = ResultPlayer(many=True)
