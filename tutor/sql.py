"""SQL pieces shared by the ingest path and the counter flush."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import TypeAlias

# Named parameters for cursor.execute: the value types this app passes (arrays go as text
# literals, see pg_array; plain lists only where a value needs quoting).
Params: TypeAlias = dict[str, bool | int | str | date | datetime | uuid.UUID | list[str] | None]


def pg_array(values: Iterable[object]) -> str:
    """A Postgres array literal for values that need no quoting (ints, hex ids, UUIDs).

    Passed as one text parameter and cast in SQL (`%s::int[]`): psycopg would quote-check every
    element of a list (a regex per value, most of the time of a million-increment flush).
    """
    return "{" + ",".join(map(str, values)) + "}"


def pg_uuids(values: Iterable[uuid.UUID]) -> str:
    """A `uuid[]` literal from 32-digit hex, which Postgres accepts and Python writes 4x faster
    than the dashed form (the bulk path writes seven ids per utterance)."""
    return "{" + ",".join(v.hex for v in values) + "}"


def pg_times(values: Iterable[datetime]) -> str:
    """A `timestamptz[]` literal (ISO 8601 in UTC needs no quoting either)."""
    return "{" + ",".join(v.astimezone(UTC).isoformat() for v in values) + "}"


# The ErrorCount upsert: new counts add to an existing (learner, day, subcategory) row. Callers
# insert in (learner, day, subcategory) order, the unique key's, so concurrent transactions take
# row locks in one order and cannot deadlock.
ERROR_COUNT_INSERT = (
    "INSERT INTO tutor_errorcount (learner_id, subcategory_id, day, count, last_seen)"
)
ERROR_COUNT_ADD_ON_CONFLICT = """
ON CONFLICT (learner_id, day, subcategory_id) DO UPDATE
SET count = tutor_errorcount.count + EXCLUDED.count,
    last_seen = GREATEST(tutor_errorcount.last_seen, EXCLUDED.last_seen)
"""

# ErrorCount rows computed from error rows (`tutor_learnererror` or rows RETURNING its columns).
ERROR_ROWS_AGGREGATE = """
SELECT learner_id, subcategory_id, (created_at AT TIME ZONE 'UTC')::date, count(*),
       max(created_at)
"""

# A new evidence_rev for the learners a statement picks (append its WHERE): settled evidence
# changed outside a flush (tutor/readcache.py).
EVIDENCE_REV_SEQUENCE = "tutor_learner_evidence_rev_seq"
EVIDENCE_REV_BUMP = f"UPDATE tutor_learner SET evidence_rev = nextval('{EVIDENCE_REV_SEQUENCE}')"
