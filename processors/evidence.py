"""extract_evidence: countries, places, shops, brands and product ids a tip names."""

from __future__ import annotations

import re

from schemas import Evidence, Tip

_YEAR = re.compile(r"\b(19[5-9]\d|20[0-4]\d)\b")


def extract_evidence(tip: Tip) -> Tip:
    """First version: years only; the multilingual gazetteer and lexicon are issue #4's job."""
    years = tuple(sorted({int(y) for y in _YEAR.findall(tip.body)}))
    return tip.model_copy(update={"evidence": Evidence(years=years)})
