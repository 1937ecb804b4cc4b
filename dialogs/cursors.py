"""Opaque, signed keyset cursors for the dialog list: a position (created_at, id) and a direction.

Signed with SECRET_KEY so that a tampered or hand-made cursor is a 400, never a surprise query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core import signing

from config.errors import ApplicationError

_SALT = "dialogs.list.cursor"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class Cursor:
    """Rows strictly after (created_at, id) in list order; `backward` walks towards newer rows."""

    created_at: datetime
    id: int
    backward: bool = False


def encode(cursor: Cursor) -> str:
    # Integer microseconds: exact, unlike float timestamps, and short.
    micros = (cursor.created_at - _EPOCH) // _MICROSECOND
    return signing.dumps(["p" if cursor.backward else "n", micros, cursor.id], salt=_SALT)


def decode(token: str) -> Cursor:
    try:
        direction, micros, row_id = signing.loads(token, salt=_SALT)
        if direction not in ("n", "p") or type(micros) is not int or type(row_id) is not int:
            raise ValueError(token)
        created_at = _EPOCH + micros * _MICROSECOND
    except (signing.BadSignature, ValueError, TypeError, OverflowError) as exc:
        raise ApplicationError(
            "invalid_cursor", "The cursor is malformed or was altered.", attr="cursor"
        ) from exc
    return Cursor(created_at=created_at, id=row_id, backward=direction == "p")
