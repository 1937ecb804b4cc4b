"""Bench data, created once per bench database and reused by later runs (idempotent)."""

from __future__ import annotations

import json
import random
import time
import uuid
from datetime import UTC, datetime, timedelta

from django.db import connection

SMALL, BIG = "bench-small", "bench-big"
INGEST_LEARNERS = 1_000
FLUSH_LEARNERS, FLUSH_INCREMENTS = 100_000, 1_000_000


def _subcategory_ids() -> list[int]:
    from tutor.models import ErrorSubcategory

    return list(ErrorSubcategory.objects.order_by("id").values_list("id", flat=True))


def _learners_insert(prefix: str, count: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO tutor_learner (id, username, email, first_name, last_name, created_at)
            SELECT gen_random_uuid(), %(p)s || i, %(p)s || i || '@bench.example', 'Bench',
                   'Learner', now()
            FROM generate_series(1, %(n)s) AS i
            ON CONFLICT (username) DO NOTHING
            """,
            {"p": f"{prefix}-", "n": count},
        )


def _errors_insert(learner_id: uuid.UUID, count: int, days: int) -> None:
    """`count` errors over the last `days` days, skewed so a few subcategories dominate."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO tutor_learnererror (id, created_at, learner_id, subcategory_id)
            SELECT gen_random_uuid(), now() - random() * make_interval(days => %(days)s),
                   %(learner)s,
                   (%(subs)s::bigint[])[1 + floor(power(random(), 2) * %(n)s)::int]
            FROM generate_series(1, %(count)s)
            """,
            {
                "days": days,
                "learner": learner_id,
                "subs": _subcategory_ids(),
                "n": len(_subcategory_ids()),
                "count": count,
            },
        )


def analyze(*tables: str) -> None:
    """Statistics as a long-running database has them (autovacuum keeps them there). A bulk load
    leaves none, and the planner then reads the uncounted-rows part of the real-time count
    through the learner's full index: 50 ms instead of 0.1 ms for a learner with a million rows."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {table}")


def tutor_seed(log) -> dict:
    """Learners with conversations for ingestion, and one small and one huge error history."""
    from tutor import services
    from tutor.models import Conversation, Learner

    if not Learner.objects.filter(username=BIG).exists():
        started = time.monotonic()
        for username, errors in ((SMALL, 100), (BIG, 1_000_000)):
            learner = services.learner_create(
                username=username, email=f"{username}@bench.example", first_name="", last_name=""
            )
            _errors_insert(learner.id, errors, days=30 if errors == 100 else 365)
        _learners_insert("bench-ingest", INGEST_LEARNERS)
        for learner in Learner.objects.filter(username__startswith="bench-ingest-"):
            services.conversation_create(learner_id=learner.id)
        services.error_counts_rebuild()
        log(f"tutor data: 1,000,100 errors and aggregates in {time.monotonic() - started:.0f} s")
    analyze("tutor_learnererror", "tutor_errorcount")
    return {
        "small": str(Learner.objects.get(username=SMALL).id),
        "big": str(Learner.objects.get(username=BIG).id),
        "conversations": [
            str(c)
            for c in Conversation.objects.filter(
                learner__username__startswith="bench-ingest-"
            ).values_list("id", flat=True)
        ],
    }


def attempts_seed(learners: dict, log) -> None:
    """Exercise attempts for the two recommendation learners (10 and 10,000), once, with their
    daily aggregate built the way ingestion keeps it."""
    from tutor.models import ExerciseAttempt

    if ExerciseAttempt.objects.filter(learner_id=learners["big"]).exists():
        return
    started = time.monotonic()
    with connection.cursor() as cursor:
        for size, count, days in (("small", 10, 30), ("big", 10_000, 365)):
            cursor.execute(
                """
                INSERT INTO tutor_exerciseattempt
                    (id, learner_id, exercise_id, subcategory_id, correct, answer, created_at)
                SELECT gen_random_uuid(), %(learner)s, e.id, e.subcategory_id, random() < 0.7, '',
                       now() - random() * make_interval(days => %(days)s)
                FROM generate_series(1, %(count)s) AS i
                JOIN LATERAL (
                    SELECT id, subcategory_id FROM tutor_exercise
                    ORDER BY md5(i::text || id::text) LIMIT 1
                ) e ON true
                """,
                {"learner": learners[size], "count": count, "days": days},
            )
        cursor.execute(
            """
            INSERT INTO tutor_attemptcount (learner_id, day, subcategory_id, attempts, correct,
                                            last_at)
            SELECT learner_id, (created_at AT TIME ZONE 'UTC')::date, subcategory_id, count(*),
                   count(*) FILTER (WHERE correct), max(created_at)
            FROM tutor_exerciseattempt WHERE learner_id = ANY(%(learners)s::uuid[])
            GROUP BY 1, 2, 3
            """,
            {"learners": [learners["small"], learners["big"]]},
        )
    log(f"attempts data: 10,010 attempts and aggregates in {time.monotonic() - started:.0f} s")


def flush_seed(log) -> int:
    """FLUSH_INCREMENTS pending increments over FLUSH_LEARNERS learners, straight into Redis
    through the tutor's own ingest script (the same keys and fields as real ingestion)."""
    from tutor import counters
    from tutor.models import Learner

    _learners_insert("bench-flush", FLUSH_LEARNERS)
    learner_ids = [
        str(i)
        for i in Learner.objects.filter(username__startswith="bench-flush-").values_list(
            "id", flat=True
        )
    ]
    subs = _subcategory_ids()
    per_learner = FLUSH_INCREMENTS // len(learner_ids)
    today = datetime.now(UTC)
    rng = random.Random(7)
    redis = counters.client()
    script = redis.register_script(counters.INGEST_LUA)
    started = time.monotonic()
    for i in range(0, len(learner_ids), 2_000):
        pipe = redis.pipeline(transaction=False)
        for learner_id in learner_ids[i : i + 2_000]:
            at = today - timedelta(days=rng.randrange(7))
            errors = [(rng.choice(subs), at) for _ in range(per_learner)]
            script(
                keys=[counters.pending_key(learner_id)],
                args=counters.ingest_args(uuid.uuid4(), errors),
                client=pipe,
            )
            pipe.sadd(counters.dirty_key(counters.learner_shard(learner_id)), learner_id)
        pipe.execute()
    log(f"flush data: {per_learner * len(learner_ids):,} increments queued in "
        f"{time.monotonic() - started:.1f} s")  # fmt: skip
    return per_learner * len(learner_ids)


def dialogs_seed(manage, log) -> None:
    from dialogs.models import Dialog

    if Dialog.objects.filter(consented_at__isnull=False).count() >= 1_000_000:
        return
    started = time.monotonic()
    manage("generate_dialogs", "--customers", "100", "--dialogs", "2000000",
           "--consented", "1000000")  # fmt: skip
    log(f"dialogs data: 2,000,000 dialogs in {time.monotonic() - started:.0f} s")


def utterance_lines(conversations: list[str], count: int = 2_000) -> list[str]:
    """wrk request lines: POST /api/utterances with three errors each."""
    errors = [
        {"errorCategory": "Grammar", "errorSubCategory": "Subject-Verb Agreement"},
        {"errorCategory": "Grammar", "errorSubCategory": "Tense"},
        {"errorCategory": "Vocabulary", "errorSubCategory": "Wrong_Word"},
    ]
    lines = []
    for i in range(count):
        body = {
            "conversation_id": conversations[i % len(conversations)],
            "content": "Yesterday I go to the library and borrow three book.",
            "errors": errors,
        }
        lines.append(f"POST /api/utterances {json.dumps(body)}")
    return lines
