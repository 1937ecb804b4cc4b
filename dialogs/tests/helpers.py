"""Assertions shared by the dialogs tests."""


def assert_error(response, *, status: int, code: str | None = None, attr: str | None = None):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["errors"], body
    if code is not None:
        assert code in {e["code"] for e in body["errors"]}, body
    if attr is not None:
        assert attr in {e["attr"] for e in body["errors"]}, body
    return body
