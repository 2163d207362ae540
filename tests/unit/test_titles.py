"""What a model answers becomes a title: its first line, without quotes, markup, a "Title:" label
or a final period, cut at a word within 80 characters; nothing usable is no title."""

from __future__ import annotations

import pytest

from parley.logic.titles import MAX_TITLE_CHARS, cleaned


@pytest.mark.parametrize(
    ("answer", "title"),
    [
        ("Hiking in Portugal", "Hiking in Portugal"),
        ('"Hiking in Portugal."', "Hiking in Portugal"),
        ("**Title: Spring hikes**\nSome explanation", "Spring hikes"),
        ("\n\n  # Lisbon budget  \n", "Lisbon budget"),
        ("", None),
        ('""', None),
    ],
)
def test_an_answer_becomes_a_clean_title(answer: str, title: str | None) -> None:
    assert cleaned(answer) == title


def test_a_long_answer_is_cut_at_a_word() -> None:
    title = cleaned("word " * 40)

    assert title is not None and len(title) <= MAX_TITLE_CHARS and title.endswith("word")
