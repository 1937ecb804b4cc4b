"""Every state change of dialogs; the counts table changes in the same transaction."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from config import replica
from config.errors import ApplicationError
from dialogs.models import ConsentDecision, Dialog, DialogCount

_DIALOG = Dialog._meta.db_table
_COUNT = DialogCount._meta.db_table
_LEDGER = ConsentDecision._meta.db_table


def _not_found() -> ApplicationError:
    return ApplicationError("dialog_not_found", "No dialog with this id.", status=404)


def _conflict(detail: str, code: str = "dialog_conflict") -> ApplicationError:
    return ApplicationError(code, detail, status=409, attr="dialogId")


def dialog_counts_add(*, deltas: dict[tuple[str, str], int]) -> None:
    """Adds {(customer_id, language): delta} to the consented counts, set-based.

    Call inside the transaction that changed the dialogs, after their rows are locked or changed:
    each statement then sees every count row committed by whoever held those locks before.
    """
    # Sorted, so that two writers touching the same count rows lock them in the same order.
    changes = sorted((key, delta) for key, delta in deltas.items() if delta)
    ups = [(c, lang, d) for (c, lang), d in changes if d > 0]
    downs = [(c, lang, -d) for (c, lang), d in changes if d < 0]
    with connection.cursor() as cursor:
        if ups:
            cursor.execute(
                f"""
                INSERT INTO {_COUNT} (customer_id, language, consented)
                SELECT * FROM unnest(%s::text[], %s::text[], %s::bigint[])
                ON CONFLICT (customer_id, language)
                DO UPDATE SET consented = {_COUNT}.consented + EXCLUDED.consented
                """,
                [list(column) for column in zip(*ups, strict=True)],
            )
        if downs:
            # A plain UPDATE: an upsert would check the negative row against the CHECK first.
            # Clamped at zero so that drifted counts can never block an erasure (drift is
            # repaired by dialog_counts_rebuild()).
            cursor.execute(
                f"""
                UPDATE {_COUNT} c SET consented = greatest(c.consented - d.n, 0)
                FROM unnest(%s::text[], %s::text[], %s::bigint[]) AS d(customer_id, language, n)
                WHERE c.customer_id = d.customer_id AND c.language = d.language
                """,
                [list(column) for column in zip(*downs, strict=True)],
            )


def dialog_create(
    *, customer_id: str, dialog_id: str, text: str, language: str
) -> tuple[Dialog, bool]:
    """Stores an unconsented dialog; returns (dialog, created).

    Idempotent: an identical retry returns the stored dialog. A different dialog under a known
    dialog_id, or one whose dialog was revoked or erased, is a 409. Two identical POSTs racing
    each other meet at the unique constraint; the loser re-reads the winner's row.
    """
    for _attempt in range(3):
        existing = Dialog.objects.filter(dialog_id=dialog_id).first()
        if existing is not None:
            if (existing.customer_id, existing.text, existing.language) != (
                customer_id,
                text,
                language,
            ):
                raise _conflict("A different dialog already has this dialogId.")
            return existing, False
        if ConsentDecision.objects.filter(dialog_id=dialog_id, granted=False).exists():
            # A late retry of a revoked dialog must not bring its text back.
            raise _conflict("This dialog was revoked or erased.", code="dialog_erased")
        try:
            with transaction.atomic():
                dialog = Dialog.objects.create(
                    customer_id=customer_id, dialog_id=dialog_id, text=text, language=language
                )
            return dialog, True
        except IntegrityError:
            continue  # a concurrent POST inserted it first (or deleted it again): re-read
    raise _conflict("This dialogId is being changed concurrently; retry.")


@transaction.atomic
def dialog_consent_record(*, dialog_id: str, granted: bool) -> Dialog | None:
    """Idempotent. Revocation erases the dialog; the ledger keeps the decision, never the text.

    A repeated revocation (the sender retries) finds the earlier one in the ledger and answers
    None (deleted) again; a dialog that never existed stays a 404.
    Locks the dialog row so that a concurrent consent, erasure or purge of it serialises.
    """
    dialog = Dialog.objects.select_for_update().filter(dialog_id=dialog_id).first()
    if dialog is None:
        if not granted and _revoked_before(dialog_id=dialog_id):
            return None
        raise _not_found()
    ConsentDecision.objects.create(
        dialog_id=dialog.dialog_id, customer_id=dialog.customer_id, granted=granted
    )
    key = (dialog.customer_id, dialog.language)
    if not granted:
        was_consented = dialog.consented
        dialog.delete()
        dialog_counts_add(deltas={key: -1 if was_consented else 0})
        transaction.on_commit(replica.fence_advance)  # before the answer: replicas must replay it
        return None
    if not dialog.consented:
        dialog.consented_at = timezone.now()
        dialog.save(update_fields=["consented_at"])
        dialog_counts_add(deltas={key: 1})
    return dialog


def _revoked_before(*, dialog_id: str) -> bool:
    """The ledger's latest decision on this id refused consent (a revocation or an erasure)."""
    latest = ConsentDecision.objects.filter(dialog_id=dialog_id).order_by("-decided_at", "-id")
    return latest.values_list("granted", flat=True).first() is False


@transaction.atomic
def dialog_delete(*, customer_id: str, dialog_id: str) -> None:
    """Erases one dialog, consented or not; 404 unless it belongs to `customer_id`."""
    dialog = (
        Dialog.objects.select_for_update()
        .filter(customer_id=customer_id, dialog_id=dialog_id)
        .first()
    )
    if dialog is None:
        raise _not_found()
    ConsentDecision.objects.create(
        dialog_id=dialog_id,
        customer_id=customer_id,
        granted=False,
        source=ConsentDecision.Source.ERASURE,
    )
    dialog.delete()
    dialog_counts_add(deltas={(customer_id, dialog.language): -1 if dialog.consented else 0})
    transaction.on_commit(replica.fence_advance)


@transaction.atomic
def customer_dialogs_delete(*, customer_id: str) -> int:
    """Erases all of a customer's dialogs; returns how many. Each gets an erasure ledger entry.

    One statement deletes and writes the ledger; the counts follow in a second statement, whose
    fresh snapshot sees count rows inserted by consents the DELETE had to wait for.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH gone AS (
                DELETE FROM {_DIALOG} WHERE customer_id = %(customer)s
                RETURNING dialog_id, language, consented_at IS NOT NULL AS consented
            ), ledger AS (
                INSERT INTO {_LEDGER} (dialog_id, customer_id, granted, source, decided_at)
                SELECT dialog_id, %(customer)s, false, %(source)s, %(now)s FROM gone
            )
            SELECT language, count(*), count(*) FILTER (WHERE consented) FROM gone
            GROUP BY language
            """,
            {
                "customer": customer_id,
                "source": ConsentDecision.Source.ERASURE.value,
                "now": timezone.now(),
            },
        )
        rows = cursor.fetchall()
    dialog_counts_add(deltas={(customer_id, lang): -consented for lang, _, consented in rows})
    transaction.on_commit(replica.fence_advance)
    return sum(total for _, total, _ in rows)


def dialogs_unconsented_purge(*, older_than: datetime, batch_size: int = 5_000) -> int:
    """Deletes never-consented dialogs created before `older_than`, one short transaction per
    batch; returns how many. SKIP LOCKED leaves rows being consented right now to their consent.
    Unconsented rows are not in the counts, so the counts do not change.
    """
    deleted = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"""
                WITH batch AS (
                    SELECT id FROM {_DIALOG}
                    WHERE consented_at IS NULL AND created_at < %s
                    ORDER BY created_at LIMIT %s
                    FOR UPDATE SKIP LOCKED
                )
                DELETE FROM {_DIALOG} d USING batch WHERE d.id = batch.id
                """,
                [older_than, batch_size],
            )
            done = cursor.rowcount
        deleted += done
        if done < batch_size:
            return deleted


@transaction.atomic
def dialog_counts_rebuild() -> int:
    """Recomputes the counts table from the dialogs (repair tool); returns the consented total.

    The table lock makes concurrent consents wait, so none is counted twice or lost.
    """
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {_COUNT} IN EXCLUSIVE MODE")
        cursor.execute(f"UPDATE {_COUNT} SET consented = 0")
        cursor.execute(
            f"""
            INSERT INTO {_COUNT} (customer_id, language, consented)
            SELECT customer_id, language, count(*) FROM {_DIALOG}
            WHERE consented_at IS NOT NULL GROUP BY customer_id, language
            ON CONFLICT (customer_id, language) DO UPDATE SET consented = EXCLUDED.consented
            """
        )
        cursor.execute(f"SELECT coalesce(sum(consented), 0) FROM {_COUNT}")
        return int(cursor.fetchone()[0])
