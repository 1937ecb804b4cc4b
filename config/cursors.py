"""Opaque, signed keyset cursors: a position (created_at, id) in a newest-first list and a
direction. Shared by every keyset-paged list (dialogs, tutor attempts).

Signed with SECRET_KEY, under a salt per list, so that a tampered or hand-made cursor, or one
taken from another list, is a 400, never a surprise query.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core import signing

from config.errors import ApplicationError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class Cursor:
    """Rows strictly after (created_at, id) in list order; `backward` walks towards newer rows."""

    created_at: datetime
    id: int | uuid.UUID
    backward: bool = False


@dataclass(frozen=True)
class CursorCodec:
    """Encodes cursors of one list: `salt` names the list, `id_type` its key (int or UUID)."""

    salt: str
    id_type: type = int

    def encode(self, cursor: Cursor) -> str:
        # Integer microseconds: exact, unlike float timestamps, and short.
        micros = (cursor.created_at - _EPOCH) // _MICROSECOND
        row_id = cursor.id.hex if isinstance(cursor.id, uuid.UUID) else cursor.id
        return signing.dumps(["p" if cursor.backward else "n", micros, row_id], salt=self.salt)

    def decode(self, token: str) -> Cursor:
        try:
            direction, micros, row_id = signing.loads(token, salt=self.salt)
            if direction not in ("n", "p") or type(micros) is not int:
                raise ValueError(token)
            created_at = _EPOCH + micros * _MICROSECOND
            row_id = self._id(row_id)
        except (signing.BadSignature, ValueError, TypeError, OverflowError) as exc:
            raise ApplicationError(
                "invalid_cursor", "The cursor is malformed or was altered.", attr="cursor"
            ) from exc
        return Cursor(created_at=created_at, id=row_id, backward=direction == "p")

    def _id(self, value: object) -> int | uuid.UUID:
        if self.id_type is uuid.UUID and type(value) is str:
            return uuid.UUID(hex=value)
        if self.id_type is int and type(value) is int:
            return value
        raise ValueError(value)
