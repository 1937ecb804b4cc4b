"""Prometheus series for the counter pipeline (flush lag and backlog feed the alert rules)."""

from prometheus_client import Counter, Gauge

flush_last_success = Gauge(
    "tutor_flush_last_success_timestamp_seconds",
    "Unix time of the last flush that finished without error.",
    multiprocess_mode="max",
)
flushed_increments = Counter(
    "tutor_flushed_increments", "Error counter increments moved from Redis into Postgres."
)
pending_learners = Gauge(
    "tutor_pending_learners",
    "Learners with counter increments still waiting in Redis, after the last flush.",
    multiprocess_mode="mostrecent",
)
