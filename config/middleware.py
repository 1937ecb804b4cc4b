"""Request id, access log and body-size limit: cross-cutting HTTP behaviour for every endpoint."""

import io
import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from config.errors import error_response
from config.logging import request_id_var

access_log = logging.getLogger("access")
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestContextMiddleware:
    """Takes X-Request-ID from the proxy (or makes one), echoes it and logs one line per request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            access_log.info(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
            return response
        finally:
            request_id_var.reset(token)


class BodySizeLimitMiddleware:
    """413 before the body is read. Django alone answers an oversized body with a bare 400.

    A chunked body (Transfer-Encoding: chunked, no Content-Length) would otherwise be read as
    empty by Django and escape the limit: it is read here, up to the limit, and handed on as an
    ordinary body of known length.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.MAX_REQUEST_BODY_BYTES
        if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            if not _buffer_chunked_body(request, limit):
                return _too_large(limit)
            return self.get_response(request)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return error_response(
                "invalid_content_length", "Content-Length is not a number.", status=400
            )
        if length > limit:
            return _too_large(limit)
        return self.get_response(request)


def _too_large(limit: int) -> HttpResponse:
    return error_response(
        "payload_too_large", f"The request body exceeds {limit} bytes.", status=413
    )


def _buffer_chunked_body(request: HttpRequest, limit: int) -> bool:
    """Reads the decoded chunked body (at most limit + 1 bytes); False when it is too large.

    Under WSGI the server (gunicorn) decodes the chunks in wsgi.input; under ASGI the body is
    already in the request's stream.
    """
    meta = request.META
    source = meta.get("wsgi.input", request._stream)
    body = source.read(limit + 1)
    if len(body) > limit:
        return False
    request.META["CONTENT_LENGTH"] = str(len(body))
    request._stream = io.BytesIO(body)
    return True


def client_ip(request: HttpRequest) -> str:
    """The client address for login lockout: X-Forwarded-For only behind NUM_PROXIES trusted
    proxies (as the throttles read it), else the socket's REMOTE_ADDR, which a client cannot
    forge."""
    if api_settings.NUM_PROXIES:
        return BaseThrottle().get_ident(request)  # type: ignore[arg-type] # reads META only
    return request.META.get("REMOTE_ADDR", "")
