"""DRF's default parser: JSON whose nesting depth is bounded.

CPython's json module recurses once per nesting level, so a body nested ~1,000 levels deep raises
RecursionError (a 500) in the parser, and a body just under that limit can still exhaust the
stack later (validation, rendering, logging). Bodies deeper than JSON_MAX_DEPTH are refused with
a 400 naming the body; every real payload here is a few levels deep.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ErrorDetail, ValidationError


def json_depth_exceeds(data: Any, limit: int) -> bool:
    """True when `data` nests containers more than `limit` deep. Level by level, no recursion;
    comprehensions keep it at a fraction of the parse's cost on a large bulk body."""
    level = [data]
    for _ in range(limit):
        level = [
            child
            for node in level
            for child in (node.values() if type(node) is dict else node)
            if type(child) is dict or type(child) is list
        ]
        if not level:
            return False
    return True


def _too_deep() -> ValidationError:
    detail = f"The JSON body nests deeper than {settings.JSON_MAX_DEPTH} levels."
    return ValidationError({"body": [ErrorDetail(detail, code="json_too_deep")]})


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise _too_deep() from None
        if isinstance(data, dict | list) and json_depth_exceeds(data, settings.JSON_MAX_DEPTH):
            raise _too_deep()
        return data
