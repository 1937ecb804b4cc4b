"""Writes deploy/grafana/dashboards/lingua.json: `python deploy/grafana/build_dashboard.py`.

The dashboard is generated so each panel is one readable line here, not 60 lines of JSON.
"""

import json
from pathlib import Path

PANELS = [
    # (title, unit, [(PromQL, legend)])
    ("Requests per second by endpoint", "reqps", [
        ("sum by (view) (rate(django_http_requests_total_by_view_transport_method_total[1m]))",
         "{{view}}"),
    ]),
    ("Latency p50 / p99 by endpoint", "s", [
        ("histogram_quantile(0.5, sum by (le, view) "
         "(rate(django_http_requests_latency_seconds_by_view_method_bucket[5m])))", "p50 {{view}}"),
        ("histogram_quantile(0.99, sum by (le, view) "
         "(rate(django_http_requests_latency_seconds_by_view_method_bucket[5m])))", "p99 {{view}}"),
    ]),
    ("Errors per second by endpoint and status", "reqps", [
        ("sum by (view, status) (rate(django_http_responses_total_by_status_view_method_total"
         "{status=~\"4..|5..\"}[1m]))", "{{status}} {{view}}"),
    ]),
    ("Tutor: flush lag (seconds since last successful flush)", "s", [
        ("time() - max(tutor_flush_last_success_timestamp_seconds)", "lag"),
    ]),
    ("Tutor: pending counters in Redis", "short", [
        ("max(tutor_pending_learners)", "learners with pending counts"),
        ("sum(rate(tutor_flushed_increments_total[1m]))", "flushed / s"),
    ]),
    ("Quizzes: open websocket connections", "short", [
        ("sum(quizzes_websocket_connections)", "open"),
    ]),
    ("Quizzes: leaderboard broadcasts per second", "ops", [
        ("sum(rate(quizzes_leaderboard_broadcasts_total[1m]))", "broadcasts / s"),
        ("sum by (result) (rate(quizzes_answers_total[1m]))", "answers {{result}} / s"),
    ]),
    ("Celery task failures per second", "ops", [
        ("sum by (task) (rate(celery_task_failures_total[5m]))", "{{task}}"),
    ]),
]  # fmt: skip


def panel(index: int, title: str, unit: str, targets: list[tuple[str, str]]) -> dict:
    return {
        "id": index + 1,
        "type": "timeseries",
        "title": title,
        "datasource": {"type": "prometheus", "uid": "prometheus"},
        "gridPos": {"h": 8, "w": 12, "x": (index % 2) * 12, "y": (index // 2) * 8},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [
            {"refId": chr(65 + i), "expr": expr, "legendFormat": legend}
            for i, (expr, legend) in enumerate(targets)
        ],
    }


def dashboard() -> dict:
    return {
        "uid": "lingua-overview",
        "title": "Lingua backend",
        "schemaVersion": 39,
        "time": {"from": "now-1h", "to": "now"},
        "refresh": "10s",
        "panels": [panel(i, *spec) for i, spec in enumerate(PANELS)],
    }


if __name__ == "__main__":
    out = Path(__file__).parent / "dashboards" / "lingua.json"
    out.write_text(json.dumps(dashboard(), indent=2) + "\n")
    print(f"wrote {out}")
