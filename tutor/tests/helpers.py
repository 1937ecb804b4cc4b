"""Assertions shared by the counting tests: aggregates, real-time reads and rows must agree."""

from collections import Counter
from datetime import UTC, date

from tutor import counters, flush, selectors, services
from tutor.models import ErrorCount, LearnerError

ALL_TIME = date(1, 1, 1)


def ingest(capture, *, conversation, labels, content="text"):
    """POST-equivalent: runs the after-commit Redis increment as a real commit would."""
    with capture(execute=True):
        return services.utterance_create(
            conversation_id=conversation.id, content=content, errors=labels
        )


def row_counts() -> Counter:
    return Counter(
        (str(e.learner_id), e.subcategory_id, e.created_at.astimezone(UTC).date())
        for e in LearnerError.objects.all()
    )


def aggregate_counts() -> Counter:
    return Counter(
        {
            (str(c.learner_id), c.subcategory_id, c.day): c.count
            for c in ErrorCount.objects.all()
            if c.count
        }
    )


def realtime(learner_id) -> dict[int, int]:
    tally = selectors.error_counts(learner_id=learner_id, since=ALL_TIME)
    return {sid: n for (sid, _), n in tally.counts.items()}


def rows_by_subcategory(learner_id) -> dict[int, int]:
    return dict(
        Counter(
            LearnerError.objects.filter(learner_id=learner_id).values_list(
                "subcategory_id", flat=True
            )
        )
    )


def redis_is_empty() -> bool:
    """No tutor key left but the move generations, which expire on their own."""
    r = counters.client()
    gens = set(r.scan_iter(counters.GEN_PATTERN))
    return not [k for k in r.scan_iter(counters.KEY_PATTERN) if k not in gens]


def move_all(label: str, *, limit: int = 100) -> list[str]:
    """A flush's first step on every shard: the ids of the snapshots it registered."""
    ids = [flush.new_flush_id(shard, label) for shard in range(counters.SHARDS)]
    return [fid for fid in ids if flush.snapshot_move(flush_id=fid, limit=limit)]
