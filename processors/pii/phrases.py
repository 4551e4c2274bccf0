"""Fast multilingual trigger-phrase matching ("my name is", "ich heiße", "Pozdrawiam", …).

A regex alternation of a few hundred phrases is tried at every position of the text; that alone
cost more than the whole redaction budget. Instead the text is split into words once, and a small
per-first-word regex is tried only where a phrase can start.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

_WORD = re.compile(r"[^\W_](?:[\w'’-]*[^\W_])?")


@lru_cache(maxsize=8)
def _lowered(text: str) -> tuple[str, frozenset[str]]:
    """The lower-cased text and its words, plus each word's part before an apostrophe (so that
    "m'appelle" is found under "m" too). Cached: every rule asks about the same text."""
    lowered = text.lower()
    found = _WORD.findall(lowered)
    heads = [re.split("['’]", w, maxsplit=1)[0] for w in found if "'" in w or "’" in w]
    return lowered, frozenset(found).union(heads)


@lru_cache(maxsize=4096)
def _whole_word(word: str) -> re.Pattern[str]:
    """``word`` as a whole word: not after a letter, digit or ``'’-_``, not before a letter,
    digit, ``_`` or ``-`` (an apostrophe may follow: "m'appelle"). The literal comes first and
    the look-behind after it, so the regex engine scans for the literal."""
    w = re.escape(word)
    return re.compile(rf"{w}(?<![\w'’-]{w})(?![\w-])")


def _word_starts(text: str, lowered: str, word: str) -> Iterator[int]:
    """Offsets where ``word`` occurs as a whole word in ``lowered``. Occurrences cannot
    overlap: one starting inside another follows one of its word characters."""
    return (m.start() for m in _whole_word(word).finditer(lowered))


class PhraseMatcher:
    """Finds any of ``phrases`` (regex fragments, whole words, spaces matching any whitespace)
    followed by ``suffix``; a match object's ``end()`` is where the phrase and suffix stop."""

    def __init__(self, phrases: tuple[str, ...], suffix: str = "") -> None:
        by_first: dict[str, list[str]] = {}
        for phrase in set(phrases):
            head = _WORD.match(phrase.lower())
            if head is None:
                raise ValueError(f"phrase must start with a word: {phrase!r}")
            by_first.setdefault(head.group(), []).append(phrase)
        self._patterns: dict[str, re.Pattern[str]] = {}
        for first, group in by_first.items():
            # Longest first, so "my full name is" wins over a shorter prefix.
            alternatives = "|".join(
                p.replace(" ", r"\s+") for p in sorted(group, key=len, reverse=True)
            )
            self._patterns[first] = re.compile(rf"(?:{alternatives})(?![\w'’]){suffix}", re.I)
        self._firsts = frozenset(self._patterns)

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        """Matches in text order; only words that can start a phrase are tried at all."""
        lowered, words = _lowered(text)
        hits = self._firsts & words
        if not hits:
            return
        if len(lowered) != len(text):
            # Lower-casing changed the length ("İ" → "i̇"): offsets would not line up.
            lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
        starts = sorted((i, w) for w in hits for i in _word_starts(text, lowered, w))
        for start, word in starts:
            m = self._patterns[word].match(text, start)
            if m is not None:
                yield m
