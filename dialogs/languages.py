"""ISO 639-1 two-letter language codes (the 183 current ones; `bh` was withdrawn in 2021).

A regex alone would accept "XX" or "QQ"; dialogs are only useful to analysts with a real language.
"""

import re

ISO_639_1 = frozenset(
    """
    aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy
    da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht
    hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky
    la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny
    oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss
    st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo
    za zh zu
    """.upper().split()
)

_TWO_LETTERS = re.compile(r"^[A-Za-z]{2}\Z")


class LanguageError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def language_parse(value: str) -> str:
    """Any case in, upper case out: the one rule for a language in a body or a query string.

    A malformed code (`invalid`) and a well-formed unknown one (`unknown_language`) both fail.
    """
    if not _TWO_LETTERS.match(value):
        raise LanguageError("invalid", "Must be a two-letter ISO 639-1 code such as EN.")
    code = value.upper()
    if code not in ISO_639_1:
        raise LanguageError("unknown_language", f"{code} is not an ISO 639-1 language code.")
    return code
