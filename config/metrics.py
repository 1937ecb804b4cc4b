"""Platform-level Prometheus series (apps define their own in `<app>/metrics.py`)."""

from prometheus_client import Counter

celery_task_failures = Counter("celery_task_failures_total", "Celery tasks that raised.", ["task"])
celery_task_successes = Counter(
    "celery_task_successes_total", "Celery tasks that finished.", ["task"]
)
