"""Reads of dialogs: only consented ones are ever visible."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connections, router, transaction
from django.db.models import Q, QuerySet, Sum

from config.errors import ApplicationError
from dialogs.cursors import Cursor
from dialogs.models import Dialog, DialogCount

LIST_FIELDS = ("id", "customer_id", "dialog_id", "text", "language", "created_at")


@dataclass(frozen=True)
class Page:
    dialogs: list[Dialog]
    count: int
    next: Cursor | None
    previous: Cursor | None


def dialogs_consented(*, language: str | None, customer_id: str | None) -> QuerySet[Dialog]:
    """Newest first. Each filter shape has its own partial index (see Dialog.Meta)."""
    qs = Dialog.objects.filter(consented_at__isnull=False)
    if language:
        qs = qs.filter(language=language)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    return qs.order_by("-created_at", "-id")


def dialogs_count(*, language: str | None, customer_id: str | None) -> int:
    """Exact, from the counts table: sums at most customers x languages rows."""
    qs = DialogCount.objects.all()
    if language:
        qs = qs.filter(language=language)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    return qs.aggregate(total=Sum("consented"))["total"] or 0


def dialog_get_consented(*, customer_id: str, dialog_id: str) -> Dialog:
    """404 for unknown, unconsented or another customer's dialog: readers can't tell them apart."""
    dialog = (
        dialogs_consented(language=None, customer_id=customer_id)
        .filter(dialog_id=dialog_id)
        .only(*LIST_FIELDS)
        .first()
    )
    if dialog is None:
        raise ApplicationError("dialog_not_found", "No consented dialog with this id.", status=404)
    return dialog


@contextmanager
def _one_snapshot() -> Iterator[None]:
    """Runs the block in one REPEATABLE READ, read-only transaction, so that page and count see
    the same committed state even while consents and revocations commit in between.

    Inside an existing transaction (a caller's, or a test's) its snapshot rules apply instead.
    On the server the queries are routed to: the replica for analyst reads (config/replica.py).
    """
    alias = router.db_for_read(Dialog)
    if connections[alias].in_atomic_block:
        yield
        return
    with transaction.atomic(using=alias):
        with connections[alias].cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def _after(qs: QuerySet[Dialog], cursor: Cursor) -> QuerySet[Dialog]:
    """Rows past the cursor in its direction. Written as `created_at <= t AND (created_at < t OR
    id < i)` so the index range starts at t and only rows tied on t are filtered."""
    t, i = cursor.created_at, cursor.id
    if cursor.backward:
        qs = qs.filter(created_at__gte=t).filter(Q(created_at__gt=t) | Q(id__gt=i))
        return qs.order_by("created_at", "id")
    return qs.filter(created_at__lte=t).filter(Q(created_at__lt=t) | Q(id__lt=i))


def _position(dialog: Dialog, *, backward: bool) -> Cursor:
    return Cursor(created_at=dialog.created_at, id=dialog.id, backward=backward)


def dialogs_page(
    *, language: str | None, customer_id: str | None, cursor: Cursor | None, size: int
) -> Page:
    """One keyset page (newest first) and the exact count, from one snapshot.

    Costs the same at any depth: the query starts at the cursor's index position, no OFFSET.
    `previous` is a real backward cursor once the client has moved past the first page.
    """
    qs = dialogs_consented(language=language, customer_id=customer_id).only(*LIST_FIELDS)
    with _one_snapshot():
        rows = list((_after(qs, cursor) if cursor else qs)[: size + 1])
        count = dialogs_count(language=language, customer_id=customer_id)
    more = len(rows) > size
    rows = rows[:size]
    if cursor is None:
        return Page(rows, count, _position(rows[-1], backward=False) if more else None, None)
    assert isinstance(cursor.id, int)  # the dialogs' codec decodes int ids (see dialogs/cursors.py)
    if not cursor.backward:
        # Past the end: the previous page still ends with the cursor's own row, inclusive.
        previous: Cursor | None = (
            _position(rows[0], backward=True)
            if rows
            else Cursor(cursor.created_at, cursor.id - 1, backward=True)
        )
        nxt = _position(rows[-1], backward=False) if more else None
        return Page(rows, count, nxt, previous)
    rows.reverse()
    previous = _position(rows[0], backward=True) if more else None
    # An empty backward page: continue forward from the cursor itself, inclusive (ids are ints).
    nxt = _position(rows[-1], backward=False) if rows else Cursor(cursor.created_at, cursor.id + 1)
    return Page(rows, count, nxt, previous)
