"""A tiny keep-alive JSON client for the bench's own setup calls and paced load."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit


class Client:
    def __init__(self, base_url: str, auth: str = "", source: str | None = None) -> None:
        """`source`: a loopback address to connect from (127.0.0.N), one client per address."""
        self.base_url = base_url
        parts = urlsplit(base_url)
        self.conn = http.client.HTTPConnection(
            parts.hostname, parts.port, timeout=30, source_address=(source, 0) if source else None
        )
        self.auth = auth

    def call(self, method: str, path: str, body: object = None, auth: str | None = None):
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if auth or self.auth:
            headers["Authorization"] = auth or self.auth
        payload = None if body is None else json.dumps(body)
        try:
            self.conn.request(method, path, payload, headers)
            response = self.conn.getresponse()
        except (http.client.HTTPException, OSError):
            self.conn.close()  # reconnect once: the server may have closed an idle connection
            self.conn.request(method, path, payload, headers)
            response = self.conn.getresponse()
        raw = response.read()
        return response.status, (json.loads(raw) if raw else None)

    def ok(self, method: str, path: str, body: object = None, auth: str | None = None):
        status, data = self.call(method, path, body, auth)
        if status >= 300:
            raise RuntimeError(f"{method} {path} -> {status}: {data}")
        return data
