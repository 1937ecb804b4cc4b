"""Nickname rules: NFKC + case folding for equality, homoglyph skeletons for look-alikes."""

import pytest

from config.errors import ApplicationError
from quizzes import nicknames


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("  Ada  ", "Ada"),
        ("\uff21\uff44\uff41", "Ada"),
        ("Zoe\u0308", "Zoë"),
        ("ada  lovelace", "ada lovelace"),
    ],
)
def test_clean_returns_the_nfkc_form(raw, stored):
    assert nicknames.clean(raw) == stored


@pytest.mark.parametrize(
    "raw",
    ["a\u200bb", "\u200d", "ad\u202ea", "\ufeffada", "a\x00", "a\u2028b", "\u3164", "x\ufe0f"],
)
def test_clean_rejects_invisible_control_and_format_characters(raw):
    with pytest.raises(ApplicationError) as exc_info:
        nicknames.clean(raw)

    assert exc_info.value.code == "nickname_invalid_character"
    assert "nickname" in exc_info.value.detail


@pytest.mark.parametrize("raw", ["", "   ", "\u3000", "\u0301"])
def test_clean_rejects_a_name_with_nothing_visible(raw):
    with pytest.raises(ApplicationError) as exc_info:
        nicknames.clean(raw)

    assert exc_info.value.code == "required"


def test_clean_rejects_a_name_longer_than_the_limit():
    with pytest.raises(ApplicationError) as exc_info:
        nicknames.clean("a" * 41)

    assert exc_info.value.code == "max_length"


@pytest.mark.parametrize(
    ("a", "b"), [("Ada", "aDA"), ("\uff21\uff44\uff41", "ada"), ("straße", "STRASSE")]
)
def test_key_is_equal_for_the_same_name(a, b):
    assert nicknames.key(a) == nicknames.key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [("ada", "\u0430da"), ("paypal", "p\u0430yp\u0430l"), ("ali", "a1i"), ("Ian", "lan")],
)
def test_skeleton_is_equal_for_look_alikes(a, b):
    assert nicknames.key(a) != nicknames.key(b)
    assert nicknames.skeleton(a) == nicknames.skeleton(b)


@pytest.mark.parametrize(("a", "b"), [("bob", "rob"), ("p001", "p002"), ("Zoë", "Zoe")])
def test_skeleton_differs_for_different_names(a, b):
    assert nicknames.skeleton(a) != nicknames.skeleton(b)
