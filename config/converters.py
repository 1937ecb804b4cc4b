"""Path converters shared by every app's urls.py (registered once, on import of this module).

`<any_uuid:name>` takes a UUID in any letter case, with or without its hyphens, as the API's
bodies do (DRF's UUIDField), and hands the view a `uuid.UUID`, so an id always reaches the
database lower-cased. Django's own `<uuid:...>` matches lower case only, so the same id that a
body accepts was a 404 in the URL. Anything else (NUL, odd characters, wrong length) matches no
route: the 404 of an unknown URL, in the API's error shape (config/errors.py).
"""

from __future__ import annotations

import uuid

from django.urls import register_converter

_HEX = "[0-9a-fA-F]"


class AnyCaseUUIDConverter:
    regex = "-?".join(f"{_HEX}{{{n}}}" for n in (8, 4, 4, 4, 12))

    def to_python(self, value: str) -> uuid.UUID:
        return uuid.UUID(value)

    def to_url(self, value: uuid.UUID | str) -> str:
        return str(uuid.UUID(str(value)))


register_converter(AnyCaseUUIDConverter, "any_uuid")
