"""Liveness and readiness probes, for the proxy, compose health checks and orchestrators."""

import contextlib

from django.db import connection
from django.http import HttpRequest, JsonResponse

from config import redis as app_redis
from config.errors import error_body


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _postgres_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        # Drop the broken connection so the next probe reconnects once Postgres is back.
        with contextlib.suppress(Exception):
            connection.close()
        return False


def _redis_ok() -> bool:
    try:
        return bool(app_redis.client().ping())
    except Exception:
        return False


def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"postgres": _postgres_ok(), "redis": _redis_ok()}
    down = [name for name, ok in checks.items() if not ok]
    if not down:
        return JsonResponse({"status": "ok", "checks": {name: "ok" for name in checks}})
    body = error_body("dependency_unavailable", f"Unavailable: {', '.join(down)}.", status=503)
    body["errors"] = [
        {"code": f"{name}_unavailable", "detail": f"{name} is not reachable.", "attr": name}
        for name in down
    ]
    body["checks"] = {name: "ok" if ok else "down" for name, ok in checks.items()}
    return JsonResponse(body, status=503)
