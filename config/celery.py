import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("lingua")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_init.connect
def _serve_worker_metrics(**kwargs: object) -> None:
    """Workers have no HTTP server: expose their metrics on CELERY_METRICS_PORT when set.

    Under `make run` all processes share one PROMETHEUS_MULTIPROC_DIR and gunicorn's /metrics
    shows the worker's series too; in containers Prometheus scrapes this port.
    """
    port = os.environ.get("CELERY_METRICS_PORT")
    if not port:
        return
    from prometheus_client import REGISTRY, CollectorRegistry, multiprocess, start_http_server

    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    start_http_server(int(port), registry=registry)


@signals.task_failure.connect
def _count_task_failure(sender: object = None, **kwargs: object) -> None:
    from config import metrics

    metrics.celery_task_failures.labels(task=getattr(sender, "name", "unknown")).inc()


@signals.task_success.connect
def _count_task_success(sender: object = None, **kwargs: object) -> None:
    from config import metrics

    metrics.celery_task_successes.labels(task=getattr(sender, "name", "unknown")).inc()
