"""detect_language: ISO 639-1 code and confidence, or ``und`` when the evidence is weak."""

from __future__ import annotations

from langdetect import DetectorFactory, LangDetectException, detect_langs

from schemas import Tip

DetectorFactory.seed = 0  # langdetect is random unless seeded; the same text must get one answer
_MIN_LETTERS = 12
_MIN_CONFIDENCE = 0.80


def detect_language(tip: Tip) -> Tip:
    """Return the tip with ``language``/``language_confidence`` set."""
    text = f"{tip.subject}\n{tip.body}"
    if sum(ch.isalpha() for ch in text) < _MIN_LETTERS:
        return tip.model_copy(update={"language": "und", "language_confidence": 0.0})
    try:
        best = detect_langs(text)[0]
    except LangDetectException:
        return tip.model_copy(update={"language": "und", "language_confidence": 0.0})
    code = best.lang.split("-")[0]
    if best.prob < _MIN_CONFIDENCE or len(code) != 2:
        return tip.model_copy(update={"language": "und", "language_confidence": 0.0})
    return tip.model_copy(update={"language": code, "language_confidence": round(best.prob, 3)})
