"""A learner's evidence per subcategory and UTC day, in real time: errors and exercise attempts.

The learning features (priority ranking, progress) read this, never the raw rows: errors come
from the daily aggregates plus the Redis counters not yet flushed (the same exactly-once rules as
`selectors.error_counts`, whose helpers it uses), attempts from their daily aggregate, which is
written in the attempt's own statement. The cost is bounded by days x subcategories in the
window, whatever the size of the history.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from config import replica
from config.errors import ApplicationError
from tutor import ranking, readcache, selectors
from tutor.selectors import RowKind

# One statement, one database snapshot. Rows (kind, subcategory, day, n, correct, last, text):
# COUNTS_SQL's row kinds per UTC day (text: the level, the batch, the flush id), plus attempts.
ATTEMPTS = max(RowKind) + 1
EVIDENCE_SQL = f"""
SELECT {RowKind.LEARNER:d}, NULL::int, NULL::date, NULL::bigint, NULL::bigint,
       NULL::timestamptz, level
FROM tutor_learner WHERE id = %(learner)s
UNION ALL
SELECT {RowKind.AGGREGATE:d}, subcategory_id, day, count, NULL, last_seen, NULL
FROM tutor_errorcount WHERE learner_id = %(learner)s AND day >= %(since_day)s AND count > 0
UNION ALL
SELECT {RowKind.UNCOUNTED:d}, subcategory_id, (created_at AT TIME ZONE 'UTC')::date, count(*),
       NULL, max(created_at),
       replace(uncounted_batch::text, '-', '')
FROM tutor_learnererror
WHERE learner_id = %(learner)s AND uncounted_batch IS NOT NULL AND created_at >= %(since)s
GROUP BY 2, 3, uncounted_batch
UNION ALL
SELECT {RowKind.APPLIED:d}, NULL, NULL, NULL, NULL, NULL, flush_id
FROM tutor_flushledger WHERE flush_id = ANY(%(fids)s::text[])
UNION ALL
SELECT {ATTEMPTS:d}, subcategory_id, day, attempts, correct, last_at, NULL
FROM tutor_attemptcount WHERE learner_id = %(learner)s AND day >= %(since_day)s
"""


@dataclass
class Evidence:
    """Per (subcategory id, UTC day): errors, attempts and correct attempts, since `since`."""

    since: date
    level: str = ""
    errors: dict[tuple[int, date], int] = field(default_factory=dict)
    error_last: dict[int, datetime] = field(default_factory=dict)
    attempts: dict[tuple[int, date], int] = field(default_factory=dict)
    correct: dict[tuple[int, date], int] = field(default_factory=dict)

    def add_errors(self, sid: int, day: date, count: int, last: datetime) -> None:
        self.errors[(sid, day)] = self.errors.get((sid, day), 0) + count
        if sid not in self.error_last or last > self.error_last[sid]:
            self.error_last[sid] = last

    def add_attempts(self, sid: int, day: date, attempts: int, correct: int) -> None:
        self.attempts[(sid, day)] = self.attempts.get((sid, day), 0) + attempts
        self.correct[(sid, day)] = self.correct.get((sid, day), 0) + correct

    def subcategories(self) -> set[int]:
        return {sid for sid, _ in self.errors} | {sid for sid, _ in self.attempts}


def learner_evidence(*, learner_id: uuid.UUID, since: date) -> Evidence:
    """404 `user_not_found` for an unknown learner. Errors count once, as soon as their 201."""
    lid = str(learner_id)
    rows, state = selectors.realtime_rows(
        learner_id=lid, read=lambda fids, _rev: _rows(lid, since, fids)
    )
    evidence = Evidence(since=since)
    parts, batches = selectors.redis_parts(state, {r[6] for r in rows if r[0] == RowKind.APPLIED})
    for kind, sid, day, n, correct, last, text in rows:
        if kind == RowKind.LEARNER:
            evidence.level = text or ""
        elif kind == RowKind.AGGREGATE or (kind == RowKind.UNCOUNTED and text not in batches):
            evidence.add_errors(sid, day, int(n), last)
        elif kind == ATTEMPTS:
            evidence.add_attempts(sid, day, int(n), int(correct))
    for part in parts:
        for (sid, day), count in part.counts.items():
            if day >= since:
                last = datetime.fromtimestamp(part.last_ms[(sid, day)] / 1000, tz=UTC)
                evidence.add_errors(sid, day, count, last)
    return evidence


def _rows(learner_id: str, since: date, fids: list[str]) -> list[tuple]:
    params = {
        "learner": learner_id,
        "since_day": since,
        "since": datetime(since.year, since.month, since.day, tzinfo=UTC),
        "fids": fids,
    }
    return _fetch(EVIDENCE_SQL, params)


# The same evidence aggregated per subcategory by Postgres, with the priority's decay weight
# 0.5 ^ (age in days / half-life) (ranking.Model.weight) applied per day: at most a few dozen
# rows whatever the history, where per-day rows cost ~1 ms per 100 to decode. The float8 casts
# matter: parameters arrive as literals, and numeric power() made this 20x slower. Rows (kind,
# subcategory, n, weighted, last, correct, batch or flush id), kinds as in EVIDENCE_SQL
# (attempts weighted: correct - wrong); the learner row's n is its evidence_rev, and the settled
# parts are skipped when the caller's cache holds them (tutor/readcache.py).
_UTC_DAY = "(created_at AT TIME ZONE 'UTC')::date"


def _weight(day: str) -> str:
    return f"power(0.5::float8, (%(today)s::date - {day}) / %(h)s::float8)"


SUMS_SQL = f"""
SELECT {RowKind.LEARNER:d}, NULL::int, evidence_rev, NULL::float8, NULL::timestamptz,
       NULL::bigint, NULL::text
FROM tutor_learner WHERE id = %(learner)s
UNION ALL
SELECT {RowKind.AGGREGATE:d}, subcategory_id, sum(count), sum(count * {_weight("day")}),
       max(last_seen), NULL, NULL
FROM tutor_errorcount WHERE learner_id = %(learner)s AND day >= %(since_day)s
  AND {readcache.SETTLED_UNLESS_CACHED}
GROUP BY subcategory_id
UNION ALL
SELECT {RowKind.UNCOUNTED:d}, subcategory_id, count(*), count(*) * {_weight(_UTC_DAY)},
       max(created_at), NULL,
       replace(uncounted_batch::text, '-', '')
FROM tutor_learnererror
WHERE learner_id = %(learner)s AND uncounted_batch IS NOT NULL AND created_at >= %(since)s
GROUP BY subcategory_id, uncounted_batch, {_UTC_DAY}
UNION ALL
SELECT {RowKind.APPLIED:d}, NULL, NULL, NULL, NULL, NULL, flush_id
FROM tutor_flushledger WHERE flush_id = ANY(%(fids)s::text[])
  AND {readcache.SETTLED_UNLESS_CACHED}
UNION ALL
SELECT {ATTEMPTS:d}, subcategory_id, sum(attempts),
       sum((2 * correct - attempts) * {_weight("day")}), NULL,
       sum(correct), NULL
FROM tutor_attemptcount WHERE learner_id = %(learner)s AND day >= %(since_day)s
  AND {readcache.SETTLED_UNLESS_CACHED}
GROUP BY subcategory_id
"""


def learner_sums(
    *, learner_id: uuid.UUID, since: date, today: date, model: ranking.Model
) -> dict[int, ranking.Sums]:
    """Real-time per-subcategory sums for the priority ranking; 404 for an unknown learner."""
    lid = str(learner_id)
    params = {
        "learner": lid,
        "since_day": since,
        "since": datetime(since.year, since.month, since.day, tzinfo=UTC),
        "today": today,
        "h": float(model.half_life_days),
    }
    rows, state = selectors.realtime_rows(
        learner_id=lid,
        read=lambda fids, rev: _fetch(SUMS_SQL, {**params, "fids": fids, "cached_rev": rev}),
        cache_key=("sums", lid, since, today, model.half_life_days),
    )
    sums: dict[int, ranking.Sums] = {}
    parts, batches = selectors.redis_parts(state, {r[6] for r in rows if r[0] == RowKind.APPLIED})
    for kind, sid, n, weighted, last, correct, text in rows:
        if kind == RowKind.AGGREGATE or (kind == RowKind.UNCOUNTED and text not in batches):
            sums.setdefault(sid, ranking.Sums()).add_errors(int(n), weighted, last)
        elif kind == ATTEMPTS:
            sums.setdefault(sid, ranking.Sums()).add_attempts(int(n), int(correct), weighted)
    for part in parts:
        for (sid, day), count in part.counts.items():
            if day >= since:
                last = datetime.fromtimestamp(part.last_ms[(sid, day)] / 1000, tz=UTC)
                weighted = count * model.weight((today - day).days)
                sums.setdefault(sid, ranking.Sums()).add_errors(count, weighted, last)
    return sums


def _fetch(sql: str, params: dict) -> list[tuple]:
    # The replica only inside an opted-in analyst view (progress); generate-exercise reads the
    # primary, where a flushed snapshot and its ledger row are always visible together.
    with replica.read_connection().cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not any(row[0] == 0 for row in rows):
        raise ApplicationError("user_not_found", "No user with this id.", status=404)
    return rows
