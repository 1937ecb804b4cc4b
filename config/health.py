"""Liveness and readiness probes, for the proxy, compose health checks and orchestrators."""

import contextlib
import ipaddress
from functools import cache

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django_prometheus.exports import ExportToDjangoView

from config import redis as app_redis
from config.errors import error_body, error_response


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


@cache
def _metrics_networks(
    networks: tuple[str, ...],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(net, strict=False) for net in networks)


def metrics_client_allowed(remote_addr: str) -> bool:
    """REMOTE_ADDR only: X-Forwarded-For is whatever the client says."""
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    networks = _metrics_networks(tuple(settings.METRICS_ALLOWED_NETWORKS))
    return any(address in network for network in networks)


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus exposition, for the local host and internal networks only."""
    if not metrics_client_allowed(request.META.get("REMOTE_ADDR", "")):
        return error_response(
            "permission_denied", "Metrics are served to internal networks only.", status=403
        )
    return ExportToDjangoView(request)
