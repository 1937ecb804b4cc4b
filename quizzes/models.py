"""Quizzes: authored questions with one correct choice, participants, served timers and answers.

Postgres is the truth for scores; the Redis leaderboard (quizzes/leaderboard.py) is a cache of
Participant rows and can always be rebuilt from them.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models

# No 0/O, 1/I/L: codes are read aloud and typed from a projector.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
MIN_CHOICES, MAX_CHOICES = 2, 6


def quiz_code_generate() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


code_validator = RegexValidator(
    rf"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$",
    f"A code is {CODE_LENGTH} characters from {CODE_ALPHABET}.",
)


class Quiz(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    class Mode(models.TextChoices):
        SELF_PACED = "self_paced", "Self-paced"
        HOSTED = "hosted", "Hosted (live, host-paced)"

    class Phase(models.TextChoices):
        """A hosted game's phase (quizzes/game.py moves it; self-paced quizzes stay in lobby)."""

        LOBBY = "lobby", "Lobby"
        QUESTION = "question", "Question open"
        REVEAL = "reveal", "Answer revealed"
        LEADERBOARD = "leaderboard", "Leaderboard"
        FINISHED = "finished", "Finished"

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    code = models.CharField(
        max_length=CODE_LENGTH,
        unique=True,
        default=quiz_code_generate,
        validators=[code_validator],
        help_text="Join code, generated.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="quizzes"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.SELF_PACED)
    close_when_all_answered = models.BooleanField(
        default=True, help_text="Hosted: a question closes early once every player has answered."
    )
    auto_reveal = models.BooleanField(
        default=True, help_text="Hosted: reveal the answer as soon as the question closes."
    )
    late_join = models.BooleanField(
        default=True, help_text="Hosted: players may join after the start (with 0 points)."
    )
    # Hosted game state: changed only by quizzes/game.py, under a row lock on this quiz.
    phase = models.CharField(max_length=12, choices=Phase.choices, default=Phase.LOBBY)
    question_index = models.PositiveIntegerField(null=True, blank=True, help_text="0-based.")
    question_opened_at = models.DateTimeField(null=True, blank=True)
    question_deadline = models.DateTimeField(null=True, blank=True)
    # +1 on every game change: clients drop an event older than the state they hold.
    game_version = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "quizzes"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.title} ({self.code})"


class Question(models.Model):
    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="questions")
    order = models.PositiveIntegerField(default=0)
    text = models.CharField(max_length=500)
    time_limit = models.PositiveIntegerField(
        default=20, validators=[MinValueValidator(1)], help_text="Seconds."
    )

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(time_limit__gt=0), name="quizzes_question_time_limit_positive"
            )
        ]

    def __str__(self) -> str:
        return self.text


class Choice(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    text = models.CharField(max_length=200)
    correct = models.BooleanField(default=False)

    class Meta:
        # "2..6 choices, exactly one correct" is a rule over a set of rows, checked where the set
        # is edited (admin formset, API serializer). A partial unique index would break the admin
        # when the correct mark moves from a later row to an earlier one (rows save in order).
        ordering = ["id"]

    def __str__(self) -> str:
        return self.text


class Participant(models.Model):
    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="participants")
    nickname = models.CharField(max_length=40)
    # quizzes/nicknames.py: equal keys are the same name, equal skeletons look the same.
    nickname_key = models.CharField(max_length=160)
    nickname_skeleton = models.CharField(max_length=160)
    # sha256 of the bearer secret: the secret itself is shown once, at join.
    token_hash = models.CharField(max_length=64, unique=True)
    score = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    joined_at = models.DateTimeField(auto_now_add=True)
    # When the current score was reached: the tie-break (earlier ranks higher).
    reached_score_at = models.DateTimeField()

    class Meta:
        ordering = ["-score", "reached_score_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["quiz", "nickname_key"], name="quizzes_participant_nickname_key_unique"
            ),
            models.UniqueConstraint(
                fields=["quiz", "nickname_skeleton"],
                name="quizzes_participant_nickname_skeleton_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.nickname


class QuestionServe(models.Model):
    """When `next` first served a question to a participant: the server-side timer start."""

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="serves")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="+")
    served_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "question"], name="quizzes_serve_once_per_question"
            )
        ]

    def __str__(self) -> str:
        return f"{self.participant_id} served {self.question_id} at {self.served_at:%H:%M:%S}"


class Answer(models.Model):
    class Result(models.TextChoices):
        CORRECT = "correct", "Correct"
        WRONG = "wrong", "Wrong"
        LATE = "late", "Late"

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    choice = models.ForeignKey(Choice, on_delete=models.CASCADE, related_name="+")
    correct = models.BooleanField()
    result = models.CharField(max_length=10, choices=Result.choices)
    points = models.PositiveIntegerField()
    answered_at = models.DateTimeField()
    # From when the question was served (self-paced) or opened (hosted), by the server's clock.
    response_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["answered_at", "id"]
        constraints = [
            # A double submit is a constraint violation (409), never a race.
            models.UniqueConstraint(
                fields=["participant", "question"], name="quizzes_answer_once_per_question"
            )
        ]

    def __str__(self) -> str:
        return f"{self.participant} -> {self.choice}: {self.result} ({self.points})"


def choice_set_error(*, count: int, correct: int) -> str | None:
    """The one rule for a question's choices, shared by the admin formset and the API."""
    if not MIN_CHOICES <= count <= MAX_CHOICES:
        return f"A question needs {MIN_CHOICES} to {MAX_CHOICES} choices (it has {count})."
    if correct != 1:
        return f"A question needs exactly one correct choice (it has {correct})."
    return None
