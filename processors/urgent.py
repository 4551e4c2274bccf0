"""flag_urgent: a tip that reports a child in danger now, or names a victim or an offender.

Such a tip is not an object tip at all and must never sink under thousands of shop names. The
stage runs after ``score`` and adds one reason (feature ``"urgent"``, text saying which signal,
weight ``W_URGENT``) and re-adds the score, so the reasons still sum to the score (clamped to
0..100) and the console's urgent view finds it with one containment probe on ``reasons``.
The signals are phrase lists per language in ``processors/data/urgent.toml`` (the commonest
wordings in each of the public site's 31 languages, and Turkish and Arabic, folded like the
text); a redacted name reads as the token ``person``. The phrases of every language are
looked for in every tip: a tipster does not always write in the language detected.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

from processors.evidence import analyse
from processors.lexicon import TOKEN, fold, fold_each, tokens
from schemas import Reason, ScoredTip

W_URGENT = 60
FEATURE = "urgent"


@dataclass(frozen=True)
class Signal:
    text: str
    # First word -> phrases (folded token tuples) starting with it: one pass over the tip.
    phrases: dict[str, tuple[tuple[str, ...], ...]]
    languages: frozenset[str]


def _folded(text: str) -> list[str]:
    return [fold(m.group()) for m in tokens(text)]


def _folded_words(text: str) -> list[str]:
    """``_folded`` for a whole tip: the same tokens (TOKEN has no groups), without a match
    object per word."""
    return list(map(fold_each, TOKEN.findall(text)))


def _tip_words(tip: ScoredTip) -> Sequence[str]:
    """The tip's folded words. Evidence and score have split the same text already (the
    ``analyse`` cache): when it holds no placeholder and no link, their words are these."""
    text = f"{tip.subject}\n{tip.body}" if tip.subject else tip.body
    if "[" not in text:
        analysis = analyse(text)
        if not analysis.links:
            return analysis.folded
    # A leading "\n" adds no token: the words of the text flag_urgent has always read.
    return _folded_words(text)


@cache
def signals() -> tuple[Signal, ...]:
    raw = tomllib.loads(
        resources.files("processors.data").joinpath("urgent.toml").read_text(encoding="utf-8")
    )
    found = []
    for section in raw.values():
        by_first: dict[str, list[tuple[str, ...]]] = {}
        for phrases in section["phrases"].values():
            for phrase in phrases:
                parts = tuple(_folded(phrase))
                if parts:
                    by_first.setdefault(parts[0], []).append(parts)
        found.append(
            Signal(
                section["text"],
                {k: tuple(v) for k, v in by_first.items()},
                frozenset(lang for lang, phrases in section["phrases"].items() if phrases),
            )
        )
    return tuple(found)


@cache
def _by_first_word() -> dict[str, tuple[tuple[int, tuple[str, ...]], ...]]:
    """First word -> (signal index, phrase) over every signal: the tip is scanned once."""
    merged: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
    for n, signal in enumerate(signals()):
        for first, phrases in signal.phrases.items():
            merged.setdefault(first, []).extend((n, p) for p in phrases)
    return {k: tuple(v) for k, v in merged.items()}


def urgent_signals(text: str) -> list[str]:
    """The texts of every signal ``text`` matches, in the lexicon's order."""
    return _matches(_folded_words(text))


def _matches(words: Sequence[str]) -> list[str]:
    starts = _by_first_word()
    # Most tips hold no word a phrase starts with: one set intersection decides that.
    present = starts.keys() & set(words)
    if not present:
        return []
    matched: set[int] = set()
    for i, w in enumerate(words):
        if w in present:
            for n, p in starts[w]:
                if n not in matched and tuple(words[i : i + len(p)]) == p:
                    matched.add(n)
    return [signal.text for n, signal in enumerate(signals()) if n in matched]


def flag_urgent(tip: ScoredTip) -> ScoredTip:
    """``tip`` with an "urgent" reason (and the score raised by it) if a signal matches."""
    if any(r.feature == FEATURE for r in tip.reasons):
        return tip
    hits = _matches(_tip_words(tip))
    if not hits:
        return tip
    reason = Reason(feature=FEATURE, text="URGENT: " + "; ".join(hits), weight=W_URGENT)
    reasons = (reason, *tip.reasons)
    total = max(0, min(100, sum(r.weight for r in reasons)))
    return tip.model_copy(update={"reasons": reasons, "score": total})
