"""Dialogs, the consent ledger, and exact per-(customer, language) counts of consented dialogs."""

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from dialogs.languages import ISO_639_1

ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}\Z"
ID_MAX_LENGTH = 64
TEXT_MAX_LENGTH = 100_000
validate_id = RegexValidator(ID_PATTERN, "1 to 64 letters, digits, '.', '_' or '-'.")

CONSENTED = Q(consented_at__isnull=False)


def validate_language(value: str) -> None:
    if value not in ISO_639_1:
        raise ValidationError(f"{value!r} is not an upper-case ISO 639-1 code.")


class Dialog(models.Model):
    """One chatbot dialog. Invisible to readers until `consented_at` is set."""

    dialog_id = models.CharField(max_length=ID_MAX_LENGTH, unique=True, validators=[validate_id])
    customer_id = models.CharField(max_length=ID_MAX_LENGTH, validators=[validate_id])
    text = models.TextField(max_length=TEXT_MAX_LENGTH)
    language = models.CharField(max_length=2, validators=[validate_language])
    created_at = models.DateTimeField(default=timezone.now)
    consented_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # Keyset list, newest first, one partial index per filter shape: a page seeks to its
            # (created_at, id) cursor and reads only its own rows, however deep; OFFSET would walk
            # every skipped row. Partial on consented rows, the only ones a reader sees.
            models.Index(fields=["created_at", "id"], condition=CONSENTED, name="dlg_list"),
            models.Index(
                fields=["language", "created_at", "id"], condition=CONSENTED, name="dlg_list_lang"
            ),
            models.Index(
                fields=["customer_id", "created_at", "id"],
                condition=CONSENTED,
                name="dlg_list_cust",
            ),
            models.Index(
                fields=["customer_id", "language", "created_at", "id"],
                condition=CONSENTED,
                name="dlg_list_cust_lang",
            ),
            # TTL purge walks only never-consented rows, oldest first.
            models.Index(fields=["created_at"], condition=~CONSENTED, name="dlg_unconsented"),
            # Customer erasure must find unconsented dialogs too.
            models.Index(fields=["customer_id"], name="dlg_customer"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(language__regex=r"^[A-Z]{2}$"), name="dlg_language_upper"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dialog_id} ({self.customer_id}, {self.language})"

    @property
    def consented(self) -> bool:
        return self.consented_at is not None


class ConsentDecision(models.Model):
    """Append-only proof of consent: who decided what, when. Never holds the dialog text."""

    class Source(models.TextChoices):
        CONSENT = "consent", "customer decision"
        ERASURE = "erasure", "erasure request"

    dialog_id = models.CharField(max_length=ID_MAX_LENGTH, db_index=True)
    customer_id = models.CharField(max_length=ID_MAX_LENGTH, db_index=True)
    granted = models.BooleanField()
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.CONSENT)
    decided_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-decided_at", "-id"]

    def __str__(self) -> str:
        verdict = "granted" if self.granted else "revoked"
        return f"{self.dialog_id}: {verdict} ({self.source})"


class DialogCount(models.Model):
    """Consented dialogs per (customer, language), changed in the transaction that changes them.

    `count` on the list then sums at most customers x languages rows instead of COUNT(*) over a
    million dialogs.
    """

    customer_id = models.CharField(max_length=ID_MAX_LENGTH)
    language = models.CharField(max_length=2)
    consented = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer_id", "language"], name="dlgcount_key"),
            models.CheckConstraint(condition=Q(consented__gte=0), name="dlgcount_nonnegative"),
        ]
        indexes = [models.Index(fields=["language"], name="dlgcount_language")]

    def __str__(self) -> str:
        return f"{self.customer_id}/{self.language}: {self.consented}"
