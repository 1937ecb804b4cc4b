"""One error shape for every 4xx/5xx, API or not.

    {"type": "validation_error" | "client_error" | "server_error",
     "errors": [{"code": "...", "detail": "...", "attr": "field or null"}]}

drf-standardized-errors shapes DRF's own exceptions; services raise `ApplicationError`, and the
non-DRF paths (unknown URLs, oversized bodies, crashes outside a view) use `error_response`.
"""

from __future__ import annotations

import logging

import redis
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpRequest, JsonResponse
from drf_standardized_errors import handler
from drf_standardized_errors.types import ExceptionHandlerContext
from rest_framework import exceptions, status
from rest_framework.exceptions import ErrorDetail
from rest_framework.response import Response

logger = logging.getLogger(__name__)


class ApplicationError(exceptions.APIException):
    """A business-rule failure a client can act on: `code` is stable, `attr` names the field."""

    def __init__(
        self, code: str, detail: str, *, status: int = 400, attr: str | None = None
    ) -> None:
        self.status_code = status
        self.code = code
        self.attr = attr
        error = ErrorDetail(detail, code=code)
        self.detail = {attr: [error]} if attr else error


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"
    default_detail = "The request body is larger than this server accepts."


class DatabaseUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "database_unavailable"
    default_detail = "The database is unavailable; nothing was changed. Retry shortly."


class RedisUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "redis_unavailable"
    default_detail = "Redis is unavailable. Retry shortly."


class ExceptionHandler(handler.ExceptionHandler):
    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, ApplicationError) and exc.attr and exc.status_code == 400:
            # A 400 naming a field (a unique name taken, a too-deep body) is a validation error,
            # typed as DRF's own field errors are.
            return exceptions.ValidationError(exc.detail)
        if isinstance(exc, RequestDataTooBig):
            return PayloadTooLarge()
        if isinstance(exc, (OperationalError, InterfaceError)) or (
            isinstance(exc, DatabaseError) and "connection" in str(exc).lower()
        ):
            logger.warning("database unavailable: %s", exc)
            return DatabaseUnavailable()
        if isinstance(exc, redis.ConnectionError | redis.TimeoutError):
            logger.warning("redis unavailable: %s", exc)
            return RedisUnavailable()
        return super().convert_known_exceptions(exc)


def exception_handler(exc: Exception, context: ExceptionHandlerContext) -> Response | None:
    return ExceptionHandler(exc, context).run()


def error_body(code: str, detail: str, *, attr: str | None = None, status: int = 400) -> dict:
    if status >= 500:
        kind = "server_error"
    else:
        kind = "validation_error" if attr and status == 400 else "client_error"
    return {"type": kind, "errors": [{"code": code, "detail": detail, "attr": attr}]}


def error_response(code: str, detail: str, *, status: int, attr: str | None = None) -> JsonResponse:
    return JsonResponse(error_body(code, detail, attr=attr, status=status), status=status)


def login_locked_out(
    request: HttpRequest, response: object = None, credentials: dict | None = None
) -> JsonResponse:
    """django-axes' lockout response (AXES_LOCKOUT_CALLABLE): the error shape, 429."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return error_response(
        "login_locked_out",
        f"Too many failed logins: locked for {minutes} minutes.",
        status=status.HTTP_429_TOO_MANY_REQUESTS,
    )


# Django-level handlers (wired in config/urls.py) so that non-DRF paths share the shape.
def handler400(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return error_response("bad_request", "The request could not be understood.", status=400)


def handler403(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return error_response("permission_denied", "You may not do this.", status=403)


def handler404(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return error_response("not_found", "No such endpoint or object.", status=404)


def handler500(request: HttpRequest) -> JsonResponse:
    return error_response("error", "Server Error (500)", status=500)
