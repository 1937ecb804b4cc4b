"""The `<quiz_code:code>` path segment, for the API, the pages and the websocket route.

Codes are typed from a projector, so any case is accepted and normalised to upper case here,
once. Anything that cannot be a code (wrong length, characters outside the alphabet, NUL) does
not match the route at all: the caller gets the 404 of an unknown URL, never a database lookup.
"""

from __future__ import annotations

from django.urls import register_converter

from quizzes.models import CODE_ALPHABET, CODE_LENGTH


class QuizCodeConverter:
    regex = f"[{CODE_ALPHABET}{CODE_ALPHABET.lower()}]{{{CODE_LENGTH}}}"

    def to_python(self, value: str) -> str:
        return value.upper()

    def to_url(self, value: str) -> str:
        return value.upper()


# Registered on import; urls.py and routing.py import this module before using the name.
register_converter(QuizCodeConverter, "quiz_code")
