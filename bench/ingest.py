"""Ingestion rows' helpers: bulk request bodies, the raw-COPY floor, and the exact-count check."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from django.db import connection

ERRORS = [
    {"errorCategory": "Grammar", "errorSubCategory": "Subject-Verb Agreement"},
    {"errorCategory": "Grammar", "errorSubCategory": "Tense"},
    {"errorCategory": "Vocabulary", "errorSubCategory": "Wrong_Word"},
]
CONTENT = "Yesterday I go to the library and borrow three book."


def bulk_lines(conversations: list[str], *, size: int, bodies: int = 20) -> list[str]:
    """wrk request lines: POST /api/utterances/bulk with `size` utterances of 3 errors each."""
    lines = []
    for b in range(bodies):
        items = [
            {"conversation_id": conversations[(b * size + i) % len(conversations)],
             "content": CONTENT, "errors": ERRORS}
            for i in range(size)
        ]  # fmt: skip
        lines.append(f"POST /api/utterances/bulk {json.dumps({'utterances': items})}")
    return lines


def _copy_text(rows: list[tuple]) -> str:
    return "".join("\t".join(map(str, row)) + "\n" for row in rows)


def copy_floor(conversations: list[tuple[str, str]], *, utterances: int) -> float:
    """Utterances per second that a raw COPY of the same rows (utterance + 3 errors, the same
    columns and indexes as ingestion) reaches in one transaction: this machine's floor. The
    rows are deleted afterwards, so they never reach the counts."""
    from tutor import taxonomy
    from tutor.ids import new_id

    subs = [
        taxonomy.subcategory_resolve(category=e["errorCategory"], subcategory=e["errorSubCategory"])
        for e in ERRORS
    ]
    now = datetime.now(UTC).isoformat()
    utt_rows, err_rows = [], []
    for i in range(utterances):
        conv, learner = conversations[i % len(conversations)]
        uid, batch = new_id(), new_id()
        utt_rows.append((uid, conv, learner, CONTENT, now))
        err_rows.extend((new_id(), learner, uid, sub.id, now, batch) for sub in subs)
    utt_text, err_text = _copy_text(utt_rows), _copy_text(err_rows)
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor: COPY is not in Django's API
        started = time.monotonic()
        with connection.connection.transaction():
            with raw.copy("COPY tutor_utterance (id, conversation_id, learner_id, content, "
                          "created_at) FROM STDIN") as copy:  # fmt: skip
                copy.write(utt_text)
            columns = "id, learner_id, utterance_id, subcategory_id, created_at, uncounted_batch"
            with raw.copy(f"COPY tutor_learnererror ({columns}) FROM STDIN") as copy:
                copy.write(err_text)
        seconds = time.monotonic() - started
        ids = [str(r[0]) for r in utt_rows]
        cursor.execute("DELETE FROM tutor_learnererror WHERE utterance_id = ANY(%s::uuid[])", [ids])
        cursor.execute("DELETE FROM tutor_utterance WHERE id = ANY(%s::uuid[])", [ids])
    return utterances / seconds


def ingest_conversations() -> list[tuple[str, str]]:
    from tutor.models import Conversation

    rows = Conversation.objects.filter(learner__username__startswith="bench-ingest-")
    return [(str(c), str(lid)) for c, lid in rows.values_list("id", "learner_id")]


def stored_errors() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM tutor_learnererror e JOIN tutor_learner l ON l.id = e.learner_id"
            " WHERE l.username LIKE 'bench-ingest-%%'"
        )
        return cursor.fetchone()[0]


COUNTS_DIFF_SQL = """
WITH learners AS (SELECT id FROM tutor_learner WHERE username LIKE 'bench-ingest-%%'),
rows AS (
    SELECT learner_id, subcategory_id, (created_at AT TIME ZONE 'UTC')::date AS day, count(*) AS n
    FROM tutor_learnererror WHERE learner_id IN (SELECT id FROM learners) GROUP BY 1, 2, 3
), aggs AS (
    SELECT learner_id, subcategory_id, day, count AS n FROM tutor_errorcount
    WHERE learner_id IN (SELECT id FROM learners) AND count > 0
)
SELECT count(*), coalesce(sum(abs(coalesce(r.n, 0) - coalesce(a.n, 0))), 0)
FROM rows r FULL JOIN aggs a USING (learner_id, subcategory_id, day)
WHERE r.n IS DISTINCT FROM a.n
"""


def counts_settle_and_diff(log, *, settle: float) -> int:
    """Waits out the fold's settle time, flushes until nothing is pending, then returns how far
    the aggregates are from the stored error rows (0: every stored error counted exactly once)."""
    from tutor import flush
    from tutor.models import LearnerError

    time.sleep(settle)
    for _ in range(20):
        flush.error_counts_flush()
        if not LearnerError.objects.filter(uncounted_batch__isnull=False).exists():
            break
        time.sleep(1)
    with connection.cursor() as cursor:
        cursor.execute(COUNTS_DIFF_SQL)
        groups, off_by = cursor.fetchone()
    log(
        f"  counts vs stored errors: {groups} (learner, subcategory, day) groups differ by {off_by}"
    )
    return off_by
