"""detect_language: ISO 639-1 code and confidence, or ``und`` when the evidence is weak.

Design (measured on ``tests/data/language``, see its README and ``benchmarks/bench_language.py``):

* py3langid, restricted to the 28 supported languages, is the primary detector: on the
  evaluation set it is both far more accurate (~99 % against ~91 %) and ~50x faster than
  langdetect, so it decides every text it is sure about.
* langdetect (seeded, restricted by a prior to the same languages) is consulted only when
  py3langid is unsure. Letting it *override* py3langid lost accuracy on the dev split, so it
  acts as a second opinion instead: an unsure guess is kept only when both detectors agree,
  otherwise the tip is ``und``. A wrong language is worse for an analyst than ``und``.
* Before detection we strip what carries no language: redaction placeholders, URLs, e-mail
  addresses, handles, digits and symbols. A text with too few letters left is ``und``.

Models load once, on first use, and are shared by every call; both detectors are
deterministic (py3langid by construction, langdetect through a fixed seed).
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from typing import Final, TypeVar

from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException
from py3langid.langid import MODEL_FILE, LanguageIdentifier  # type: ignore[import-untyped]

from schemas.tip import TipContent

AnyTip = TypeVar("AnyTip", bound=TipContent)

logger = logging.getLogger(__name__)

# The 24 official EU languages plus Russian, Ukrainian, Turkish and Arabic (issue #3).
SUPPORTED: Final[tuple[str, ...]] = (
    "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr", "hu", "it",
    "lt", "lv", "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv", "ru", "uk", "tr", "ar",
)  # fmt: skip
UNDETERMINED: Final = "und"

# Fewer letters than this is not evidence of a language ("ok", "Lidl?", "10€").
MIN_LETTERS: Final = 5
# py3langid probabilities are softmax-calibrated by text length; at or above this the
# primary guess stands alone. Chosen on the dev split only (see the data README).
ACCEPT_CONFIDENCE: Final = 0.5
# Below this even agreement of both detectors is too weak to report a language.
FLOOR_CONFIDENCE: Final = 0.15
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


class _Detectors:
    """Lazily built detectors, shared process-wide. Building takes ~1 s, so do it once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._primary: object | None = None
        self._secondary: object | None = None

    def primary(self) -> object:
        if self._primary is None:
            with self._lock:
                if self._primary is None:
                    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
                    ident.set_languages(list(SUPPORTED))
                    self._primary = ident
                    logger.info("py3langid loaded for %d languages", len(SUPPORTED))
        return self._primary

    def secondary(self) -> object:
        if self._secondary is None:
            with self._lock:
                if self._secondary is None:
                    factory = DetectorFactory()
                    factory.load_profile(PROFILES_DIRECTORY)
                    factory.set_seed(0)  # langdetect is random unless seeded
                    self._secondary = factory
                    logger.info("langdetect profiles loaded")
        return self._secondary


_DETECTORS = _Detectors()


def warm_up() -> None:
    """Load both models now (e.g. at worker start) so the first tips do not pay for it."""
    _DETECTORS.primary()
    _DETECTORS.secondary()


def _primary_guess(text: str) -> tuple[str, float]:
    lang, confidence = _DETECTORS.primary().classify(text)  # type: ignore[attr-defined]
    return str(lang), float(confidence)


def _secondary_guess(text: str) -> tuple[str, float]:
    """langdetect's best supported language, or ``und`` if it has none."""
    factory = _DETECTORS.secondary()
    known = set(factory.get_lang_list())  # type: ignore[attr-defined]
    detector = factory.create()  # type: ignore[attr-defined]
    # A prior of zero keeps langdetect from answering with languages we do not support.
    detector.set_prior_map({lang: 1.0 for lang in SUPPORTED if lang in known})
    detector.append(text)
    try:
        ranked = detector.get_probabilities()
    except LangDetectException:
        return UNDETERMINED, 0.0
    for candidate in ranked:
        code = str(candidate.lang).split("-")[0]
        if code in SUPPORTED:
            return code, float(candidate.prob)
    return UNDETERMINED, 0.0


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
    if confidence >= ACCEPT_CONFIDENCE:
        return Detection(lang, round(confidence, 3))
    if confidence < FLOOR_CONFIDENCE:
        return Detection(UNDETERMINED, 0.0)
    second, second_confidence = _secondary_guess(cleaned)
    if second == lang:
        # Two independent models agree: report the weaker of their confidences.
        return Detection(lang, round(min(confidence * 2, second_confidence, 1.0), 3))
    return Detection(UNDETERMINED, 0.0)


def detect_language(tip: AnyTip) -> AnyTip:
    """Return the tip with ``language``/``language_confidence`` set (``und``/0.0 if unsure).

    Any stage of a tip: the clean flow runs it on the normalised RawTip, before redaction.
    """
    detection = identify(f"{tip.subject}\n{tip.body}")
    logger.debug("tip %s language %s", tip.tip_id, detection.language)
    return tip.model_copy(
        update={"language": detection.language, "language_confidence": detection.confidence}
    )
