"""Splitting a document into overlapping chunks, on paragraph and then sentence boundaries where
possible, sized in (conservatively estimated) tokens."""

from __future__ import annotations

import re
from dataclasses import dataclass

from parley.tokens import estimate_tokens

_PARAGRAPHS = re.compile(r"\n\s*\n")
_SENTENCES = re.compile(r"(?<=[.!?])\s+(?=\S)")


@dataclass(frozen=True)
class _Unit:
    text: str
    starts_paragraph: bool

    @property
    def tokens(self) -> int:
        return estimate_tokens(self.text)


def chunk_text(text: str, max_tokens: int, overlap_tokens: int) -> list[str]:
    """Chunks of at most `max_tokens`; each after the first starts with the last
    `overlap_tokens` or so of the one before, so no sentence loses its context at a cut."""
    units = list(_units(text, max_tokens))
    chunks: list[list[_Unit]] = []
    current: list[_Unit] = []
    for unit in units:
        if current and estimate_tokens(_join([*current, unit])) > max_tokens:
            chunks.append(current)
            current = _tail(current, overlap_tokens, room=max_tokens - unit.tokens)
        current.append(unit)
    if current:
        chunks.append(current)
    return [_join(chunk) for chunk in chunks]


def _units(text: str, max_tokens: int) -> list[_Unit]:
    """Paragraphs that fit whole; otherwise their sentences; a sentence too long on its own is
    cut between words."""
    units: list[_Unit] = []
    for paragraph in (p.strip() for p in _PARAGRAPHS.split(text)):
        if not paragraph:
            continue
        if estimate_tokens(paragraph) <= max_tokens:
            units.append(_Unit(paragraph, True))
            continue
        for index, sentence in enumerate(_SENTENCES.split(paragraph)):
            pieces = (
                _split_words(sentence, max_tokens) if estimate_tokens(sentence) > max_tokens else [sentence]
            )
            units += [_Unit(piece, index == 0 and n == 0) for n, piece in enumerate(pieces)]
    return units


def _split_words(sentence: str, max_tokens: int) -> list[str]:
    pieces, current = [], ""
    for word in sentence.split():
        candidate = f"{current} {word}" if current else word
        if current and estimate_tokens(candidate) > max_tokens:
            pieces.append(current)
            candidate = word
        current = candidate
    if current:
        pieces.append(current)
    # A single "word" longer than a chunk (a URL, base64) is cut by characters.
    return [part for piece in pieces for part in _cut(piece, max_tokens * 3)]


def _cut(text: str, max_bytes: int) -> list[str]:
    if len(text.encode()) <= max_bytes:
        return [text]
    step = max(1, max_bytes // 4)  # 4 bytes is the most one character takes in UTF-8
    return [text[i : i + step] for i in range(0, len(text), step)]


def _tail(chunk: list[_Unit], overlap_tokens: int, room: int) -> list[_Unit]:
    """The last units of `chunk` within the overlap budget (and leaving room for the next unit)."""
    tail: list[_Unit] = []
    budget = min(overlap_tokens, room - 1)  # a separator joins the tail to what follows
    for unit in reversed(chunk):
        if unit.tokens + 1 > budget:
            break
        tail.insert(0, unit)
        budget -= unit.tokens + 1
    return tail


def _join(units: list[_Unit]) -> str:
    text = units[0].text
    for unit in units[1:]:
        text += ("\n\n" if unit.starts_paragraph else " ") + unit.text
    return text
