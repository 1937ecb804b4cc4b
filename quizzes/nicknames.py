"""The one home for nickname rules: cleaning, the uniqueness key and the confusables skeleton.

A nickname is shown on a projector to a room of people, so two names that *look* the same are
as bad as two that are the same. Three layers:

- `clean` rejects what cannot be seen or steers rendering: control, format (zero-width, bidi),
  private-use, unassigned and invisible filler characters (400), and names with nothing visible.
  It returns the NFKC form, so full-width or ligature letters are stored as their plain letters.
- `key` (NFKC + case folding) is unique per quiz: "Ada", "ADA" and full-width "Ada" are one.
- `skeleton` maps every character to one representative of its homoglyph class (Unicode's
  confusables data, as shipped by confusable-homoglyphs), so Cyrillic "\u0430" and Latin "a", or
  "l" and "1", share a skeleton; it is unique per quiz too (409 `nickname_confusable`).
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from pathlib import Path

import confusable_homoglyphs

from config.errors import ApplicationError

MAX_LENGTH = 40
# Categories that render as nothing, or change how the rest renders: Cc control, Cf format
# (ZWSP, ZWJ, bidi overrides, BOM), Co private use, Cs surrogates, Cn unassigned, Zl/Zp breaks.
_REJECTED_CATEGORIES = {"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"}
# Letters and marks that render blank (Hangul fillers, braille blank, combining grapheme joiner,
# variation selectors): their categories look harmless, their glyphs are empty.
_INVISIBLE = {0x115F, 0x1160, 0x3164, 0xFFA0, 0x2800, 0x034F, 0x17B4, 0x17B5}
_INVISIBLE_RANGES = [(0xFE00, 0xFE0F), (0x180B, 0x180F), (0xE0100, 0xE01EF)]
_SPACES = re.compile(r"\s+")
_BIDI_MARKS = str.maketrans("", "", "\u200e\u200f")


def _invisible(char: str) -> bool:
    point = ord(char)
    return point in _INVISIBLE or any(lo <= point <= hi for lo, hi in _INVISIBLE_RANGES)


def clean(raw: str) -> str:
    """The nickname as stored and shown (NFKC, single spaces), or a 400 naming `nickname`."""
    for char in raw:
        if unicodedata.category(char) in _REJECTED_CATEGORIES or _invisible(char):
            name = unicodedata.name(char, f"U+{ord(char):04X}")
            raise ApplicationError(
                "nickname_invalid_character",
                f"Nicknames cannot contain invisible or control characters ({name}).",
                attr="nickname",
            )
    nickname = _SPACES.sub(" ", unicodedata.normalize("NFKC", raw)).strip()
    if not any(unicodedata.category(c)[0] in "LNPS" for c in nickname):
        raise ApplicationError("required", "Choose a nickname.", attr="nickname")
    if len(nickname) > MAX_LENGTH:
        raise ApplicationError("max_length", f"At most {MAX_LENGTH} characters.", attr="nickname")
    return nickname


def key(nickname: str) -> str:
    """Equal keys are the same name: NFKC, then full case folding (ß = ss), then NFKC again."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", nickname).casefold())


def skeleton(nickname: str) -> str:
    """Equal skeletons look alike. Case-folded afterwards, so "Ada" and "\u0430da" compare too."""
    classes = _homoglyph_classes()
    folded = "".join(classes.get(c, c) for c in unicodedata.normalize("NFKC", nickname))
    return "".join(classes.get(c, c) for c in key(folded))


@functools.cache
def _homoglyph_classes() -> dict[str, str]:
    """char -> the smallest code point of its homoglyph class (union-find over the data)."""
    path = Path(confusable_homoglyphs.__file__).with_name("confusables.json")
    data: dict[str, list[dict]] = json.loads(path.read_text(encoding="utf-8"))
    parent: dict[str, str] = {}

    def find(c: str) -> str:
        while parent.setdefault(c, c) != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    for char, glyphs in data.items():
        for glyph in glyphs:
            other = glyph["c"].translate(_BIDI_MARKS)
            if len(other) == 1 and len(char) == 1:
                a, b = find(char), find(other)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    return {c: find(c) for c in parent}
