"""Test support shared by every app's tests (imported by tests only, never by the apps)."""

from __future__ import annotations

from typing import Any


def assert_error(
    response: Any,  # the test client's response, which has .json()
    *,
    status: int,
    code: str | None = None,
    attr: str | None = None,
    type: str | None = None,
    only: bool = False,
) -> dict[str, Any]:
    """Asserts an error response in the project's one shape and returns its body.

    Always: the status, a body of exactly `type` and `errors`, and a non-empty `errors` list whose
    entries hold exactly `code`, `detail` and `attr`. With `code` and/or `attr`, some entry has
    them (both on the same entry); `only` makes it the sole entry; `type` pins the body's type.
    """
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert set(body) == {"type", "errors"}, body
    errors = body["errors"]
    assert errors, body
    assert all(set(error) == {"code", "detail", "attr"} for error in errors), body
    if type is not None:
        assert body["type"] == type, body
    matching = [
        error
        for error in errors
        if (code is None or error["code"] == code) and (attr is None or error["attr"] == attr)
    ]
    assert matching, body
    if only:
        assert len(errors) == 1, body
    return body
