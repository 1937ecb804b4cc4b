"""Learners, their conversations and errors, the error taxonomy, exercises, and error counts.

Postgres rows of `LearnerError` and `ExerciseAttempt` are the source of truth. `ErrorCount` is a
per learner, subcategory and UTC day aggregate maintained by the counter flush (see
`tutor/flush/`); `AttemptCount` is its counterpart for attempts.
Every learner-owned row carries `learner_id` so the tables can later be distributed by learner.
"""

from __future__ import annotations

import re
import uuid

from django.db import models
from django.db.models import Q

from tutor import ids

_SEPARATORS = re.compile(r"[\s_\-]+")


def label_key(label: str) -> str:
    """Lookup key for a taxonomy label: case-insensitive, spaces/hyphens/underscores alike.

    "Subject-Verb Agreement", "subject_verb_agreement" and "SUBJECT VERB  AGREEMENT" share a key.
    """
    key = _SEPARATORS.sub("_", label.strip().lower()).strip("_")
    return key.replace("_/", "/").replace("/_", "/")


class Level(models.TextChoices):
    """CEFR levels. Exercises are written for A2-C1; a learner may be anywhere on the scale."""

    A1 = "A1"
    A2 = "A2"
    B1 = "B1"
    B2 = "B2"
    C1 = "C1"
    C2 = "C2"


class Learner(models.Model):
    """A person learning English (the API calls them "user"; not a Django login account)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    username = models.CharField(max_length=150, unique=True)
    email = models.EmailField(max_length=254, unique=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Optional: exercises near this level are offered first (tutor/rotation.py).
    # db_default too: bulk loaders insert learners with plain SQL.
    level = models.CharField(
        max_length=2, choices=Level.choices, blank=True, default="", db_default=""
    )
    # The table also has `evidence_rev` (migration 0008), on purpose not a field here: SQL alone
    # writes it, so no ORM save can put back a value read earlier (tutor/readcache.py).

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return self.username


class Conversation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # db_index=False: the composite index below starts with learner (one index to write, not two).
    learner = models.ForeignKey(
        Learner, on_delete=models.CASCADE, related_name="conversations", db_index=False
    )
    started_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["learner", "-started_at"], name="tutor_conv_learner_idx")]

    def __str__(self) -> str:
        return f"{self.learner_id} @ {self.started_at:%Y-%m-%d %H:%M}"


class Utterance(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The composite indexes below cover both foreign keys: no single-column copies to write.
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="utterances", db_index=False
    )
    # Denormalised from the conversation: ownership checks and sharding without a join.
    learner = models.ForeignKey(
        Learner, on_delete=models.CASCADE, related_name="utterances", db_index=False
    )
    content = models.TextField()
    created_at = models.DateTimeField()
    # Not a field: the errors `services.utterance_create` stored with it, for the response.
    new_errors: list[LearnerError]

    class Meta:
        indexes = [
            models.Index(fields=["conversation", "created_at"], name="tutor_utt_conv_idx"),
            models.Index(fields=["learner", "-created_at"], name="tutor_utt_learner_idx"),
        ]

    def __str__(self) -> str:
        return self.content[:60]


class ErrorCategory(models.Model):
    name = models.CharField(max_length=80, unique=True)
    key = models.CharField(max_length=80, unique=True, editable=False)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "error categories"

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:  # the key is a pure function of the name
        self.key = label_key(self.name)
        super().save(*args, **kwargs)


class ErrorSubcategory(models.Model):
    category = models.ForeignKey(
        ErrorCategory, on_delete=models.PROTECT, related_name="subcategories"
    )
    name = models.CharField(max_length=80)
    key = models.CharField(max_length=80, editable=False)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["category__name", "name"]
        verbose_name_plural = "error subcategories"
        constraints = [
            models.UniqueConstraint(fields=["category", "key"], name="tutor_subcat_key_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.category.name} / {self.name}"

    def save(self, *args, **kwargs) -> None:
        self.key = label_key(self.name)
        super().save(*args, **kwargs)


class Exercise(models.Model):
    class Difficulty(models.IntegerChoices):
        EASY = 1, "easy"
        MEDIUM = 2, "medium"
        HARD = 3, "hard"

    subcategory = models.ForeignKey(
        ErrorSubcategory, on_delete=models.CASCADE, related_name="exercises"
    )
    title = models.CharField(max_length=200)
    instructions = models.TextField()
    prompt = models.TextField()
    answer = models.TextField(help_text="Model answer or explanation.")
    difficulty = models.PositiveSmallIntegerField(choices=Difficulty.choices)
    level = models.CharField(
        max_length=2, choices=Level.choices, default=Level.B1, db_default=Level.B1
    )
    explanation = models.TextField(
        blank=True, default="", db_default="", help_text="Why the model answer is right."
    )

    class Meta:
        ordering = ["subcategory", "difficulty", "id"]
        indexes = [models.Index(fields=["subcategory", "difficulty", "id"], name="tutor_ex_idx")]

    def __str__(self) -> str:
        return self.title


class LearnerError(models.Model):
    """One error found in an utterance (the API's "error"); Postgres keeps every one."""

    # A UUID the client may choose (a retry then hits the primary key, not a duplicate row);
    # server-made ones are time-ordered.
    id = models.UUIDField(primary_key=True, default=ids.new_id, editable=False)
    # Covered by the indexes in Meta; each index is written for every error ingested.
    learner = models.ForeignKey(
        Learner, on_delete=models.CASCADE, related_name="errors", db_index=False
    )
    utterance = models.ForeignKey(
        Utterance,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="errors",
        db_index=False,
    )
    subcategory = models.ForeignKey(ErrorSubcategory, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()  # when the learner made it (client time allowed)
    # The ingest request's batch id (UUIDv7: its time is the ingest moment), written with the row
    # and cleared by the flush that applies the batch's Redis increment. A row still marked after
    # the settle time has no applied increment (a worker died before its Redis call, Redis was
    # down or lost its data): the flush folds it into ErrorCount exactly once (tutor/flush/fold.py).
    uncounted_batch = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        indexes = [
            models.Index(fields=["learner", "created_at"], name="tutor_err_learner_idx"),
            models.Index(fields=["utterance"], name="tutor_err_utt_idx"),
            models.Index(
                fields=["uncounted_batch"],
                name="tutor_err_uncounted_idx",
                condition=Q(uncounted_batch__isnull=False),
            ),
            models.Index(
                fields=["learner", "created_at"],
                name="tutor_err_learner_unc_idx",
                condition=Q(uncounted_batch__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.learner_id}: {self.subcategory_id} @ {self.created_at:%Y-%m-%d %H:%M}"


class ErrorCount(models.Model):
    """Errors per learner, subcategory and UTC day, as of the last applied flush."""

    id = models.BigAutoField(primary_key=True)
    # No database-level foreign keys: a derived table written in bulk, where per-row deferred
    # FK checks cost a third of the flush. Deletes still cascade through the ORM.
    learner = models.ForeignKey(  # indexed by the unique constraint's first column
        Learner, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    subcategory = models.ForeignKey(
        ErrorSubcategory, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)
    last_seen = models.DateTimeField()

    class Meta:
        constraints = [
            # Column order serves both the flush upsert and the read "learner, day >= D".
            models.UniqueConstraint(
                fields=["learner", "day", "subcategory"], name="tutor_errorcount_uniq"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.learner_id} {self.subcategory_id} {self.day}: {self.count}"


class FlushLedger(models.Model):
    """One row per applied counter snapshot: its unique flush id makes applying idempotent."""

    class Kind(models.TextChoices):
        FLUSH = "flush", "applied by a flush"
        DISCARDED = "discarded", "discarded by a rebuild (the rows already hold its errors)"

    id = models.BigAutoField(primary_key=True)
    flush_id = models.CharField(max_length=64, unique=True)
    applied_at = models.DateTimeField(db_index=True)
    learners = models.PositiveIntegerField(default=0)
    increments = models.PositiveBigIntegerField(default=0)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.FLUSH)

    class Meta:
        ordering = ["-applied_at"]

    def __str__(self) -> str:
        return f"{self.flush_id} ({self.kind})"


class ExerciseAttempt(models.Model):
    """One answer to an exercise. The id may come from the client, so a retry is a no-op."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    learner = models.ForeignKey(
        Learner, on_delete=models.CASCADE, related_name="attempts", db_index=False
    )
    exercise = models.ForeignKey(
        Exercise, on_delete=models.PROTECT, related_name="attempts", db_index=False
    )
    # Denormalised from the exercise: the per-subcategory aggregate needs no join.
    subcategory = models.ForeignKey(
        ErrorSubcategory, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    correct = models.BooleanField()
    answer = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            # The keyset-paged list, newest first.
            models.Index(fields=["learner", "-created_at", "-id"], name="tutor_att_learner_idx"),
            # Rotation: "last attempt of this exercise" and "last correct one" are index probes.
            models.Index(fields=["learner", "exercise", "created_at"], name="tutor_att_ex_idx"),
            models.Index(
                fields=["learner", "exercise", "created_at"],
                name="tutor_att_ex_ok_idx",
                condition=Q(correct=True),
            ),
        ]

    def __str__(self) -> str:
        verdict = "correct" if self.correct else "wrong"
        return f"{self.learner_id}: exercise {self.exercise_id} {verdict}"


class AttemptCount(models.Model):
    """Attempts per learner, subcategory and UTC day, written in the attempt's own statement.

    Ranking and progress read these instead of the attempts, so their cost does not grow with
    a learner's practice history.
    """

    id = models.BigAutoField(primary_key=True)
    learner = models.ForeignKey(  # indexed by the unique constraint's first column
        Learner, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    subcategory = models.ForeignKey(
        ErrorSubcategory, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    day = models.DateField()
    attempts = models.PositiveIntegerField(default=0)
    correct = models.PositiveIntegerField(default=0)
    last_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "day", "subcategory"], name="tutor_attemptcount_uniq"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.learner_id} {self.subcategory_id} {self.day}: {self.correct}/{self.attempts}"
