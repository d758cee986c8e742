"""The sensitive-word matcher: Aho–Corasick over width- and case-folded text.

Pure code, no ORM. Text and patterns are folded the same way — Unicode NFKC (full-width
letters, digits and punctuation become their half-width forms) then case folding — so
``ＶＩＰ``, ``Vip`` and ``vip`` are one word. Matches are reported as offsets into the
*original* text, so a page can highlight exactly what the rep wrote.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import ahocorasick


def fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def fold_with_offsets(text: str) -> tuple[str, list[int] | None]:
    """The folded text and, when folding changed its length, the original offset of each
    folded character (``None`` means offsets are unchanged — the common case, and the
    fast one: one C call for the whole text)."""
    folded = fold(text)
    if len(folded) == len(text):
        return folded, None
    parts, offsets = [], []
    for index, char in enumerate(text):
        piece = fold(char)
        parts.append(piece)
        offsets.extend([index] * len(piece))
    return "".join(parts), offsets


@dataclass(frozen=True)
class Word:
    id: int
    phrase: str
    category: str = ""
    severity: str = ""


@dataclass(frozen=True)
class Match:
    word: Word
    start: int  # in the original text
    end: int  # exclusive


class Matcher:
    """A compiled word list. Build once per list (~1 ms per 1,000 words), reuse for
    every text."""

    def __init__(self, words: Iterable[Word]):
        self.automaton = ahocorasick.Automaton()
        self.size = 0
        for word in words:
            key = fold(word.phrase.strip())
            if not key:
                continue
            existing = self.automaton.get(key, ())
            self.automaton.add_word(key, (len(key), (*existing[1], word) if existing else (word,)))
            self.size += 1
        if self.size:
            self.automaton.make_automaton()

    def find(self, text: str) -> list[Match]:
        if not self.size or not text:
            return []
        folded, offsets = fold_with_offsets(text)
        found = []
        for end, (length, words) in self.automaton.iter(folded):
            start = end - length + 1
            if offsets is None:
                first, last = start, end + 1
            else:
                first, last = offsets[start], offsets[end] + 1
            found.extend(Match(word, first, last) for word in words)
        return found


def highlight_spans(text: str, spans: Iterable[tuple[int, int]]) -> list[tuple[str, bool]]:
    """Split ``text`` into ``(piece, hit)`` runs, overlapping spans merged."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        start, end = max(0, start), min(len(text), end)
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    pieces, at = [], 0
    for start, end in merged:
        if start > at:
            pieces.append((text[at:start], False))
        pieces.append((text[start:end], True))
        at = end
    if at < len(text):
        pieces.append((text[at:], False))
    return pieces
