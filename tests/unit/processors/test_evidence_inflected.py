"""Evidence on word boundaries, and inflected place names from real sentences (UD treebanks)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from processors.evidence import find_evidence

DATA = Path(__file__).resolve().parents[2] / "data" / "evidence_inflected" / "sentences.tsv"


@pytest.mark.parametrize(
    "text",
    [
        "the magnitude of the problem",
        "la magnitud del problema",
        "en el epicentro del terremoto",
        "Βρήκα μια τσάντα στο δρόμο",
        "this is childish",
    ],
)
def test_names_never_match_inside_ordinary_words(text: str) -> None:
    ev = find_evidence(text, 2026)
    assert (ev.countries, ev.cities, ev.shops, ev.brands) == ((), (), (), ())


@pytest.mark.parametrize(
    "text",
    [
        "Я видел такую в Вене",
        "Widziałam ją w Wiedniu",
        "Бачила таку у Відні",
        "Viděla jsem ji ve Vídni",
        "Bécsben láttam",
        "Gesehen in Wien",
    ],
)
def test_inflected_vienna(text: str) -> None:
    ev = find_evidence(text, 2026)
    assert ev.cities == ("Vienna",)
    assert "AT" in ev.countries


def _rows() -> list[dict[str, str]]:
    with DATA.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def test_inflected_place_names_in_real_sentences_are_found() -> None:
    by_lang: dict[str, list[bool]] = {}
    for row in _rows():
        ev = find_evidence(row["text"], 2026)
        found = row["value"] in (ev.cities if row["kind"] == "city" else ev.countries)
        by_lang.setdefault(row["lang"], []).append(found)
    # A regression gate at today's level (the goal, 0.9 per language, is not met everywhere:
    # bench_evidence prints the figures). Languages with under 10 sentences count in the total.
    total = [h for hits in by_lang.values() for h in hits]
    assert sum(total) / len(total) >= 0.88
    recall = {lang: sum(h) / len(h) for lang, h in by_lang.items() if len(h) >= 10}
    assert len(recall) >= 12
    low = {lang: round(r, 3) for lang, r in recall.items() if r < 0.75}
    assert not low, low
