"""bench_evidence: place names in real sentences, recall per language and split; false evidence.

Data (tests/data/evidence_inflected, built by its make_ud.py from Universal Dependencies
treebanks; see its README): ``sentences.tsv`` names a country or city per sentence, found by
the treebank's LEMMA column, in an inflected form ("w Wiedniu") or as listed ("Wien");
``no_names.tsv`` holds sentences with no proper noun at all. Split: ``dev`` (the treebanks'
dev files: misses may be read and fixed there) and ``test`` (held out, never tuned on).

Each sentence is read with its treebank's language as the tip's language (what
``detect_language`` gives a tip), so forms known only in that language count; the same
inflected sentences read as ``und`` show what is found when the language is unknown.

A sentence counts as found when ``find_evidence`` returns the expected country or city. False
evidence: a sentence of no_names.tsv for which ``find_evidence`` returns any city, shop or
brand (countries are counted apart: adjectives such as "polski" are country evidence by
design, and the UD sentences hold many of them).

Cost: CPU µs per sentence over both files (``time.process_time``, so other load on the
machine does not count), the median of PASSES passes, each with the text cache cleared.

Run: .venv/bin/python benchmarks/bench_evidence.py   (part of `make bench`)
"""

from __future__ import annotations

import csv
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from processors.evidence import analyse, find_evidence
from processors.lexicon import load_lexicon

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "evidence_inflected"
PASSES = 5
GOAL = 0.9


def _read(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _share(hits: list[bool]) -> str:
    return f"{sum(hits) / len(hits):.3f}"


def _rate(hits: list[bool]) -> str:
    return f"{sum(hits) / len(hits):.3f} ({len(hits):>2})" if hits else "    -     "


def main() -> None:
    start = time.perf_counter()
    lexicon = load_lexicon()
    print(
        f"lexicon built in {time.perf_counter() - start:.2f} s: {len(lexicon.ngrams):,} names, "
        f"{len(lexicon.shops):,} shops, {len(lexicon.brand_countries):,} brands"
    )
    rows, empty = _read("sentences.tsv"), _read("no_names.tsv")
    found: dict[tuple[str, str, str], list[bool]] = {}
    misses: dict[str, list[str]] = {}
    unknown: dict[str, list[bool]] = {}
    for row in rows:
        ev = find_evidence(row["text"], 2026, lexicon, row["lang"])
        hit = row["value"] in (ev.cities if row["kind"] == "city" else ev.countries)
        found.setdefault((row["lang"], row["split"], row["inflected"]), []).append(hit)
        if not hit and row["split"] == "dev":
            misses.setdefault(row["lang"], []).append(row["form"])
        if row["inflected"] == "yes":
            ev = find_evidence(row["text"], 2026, lexicon)
            hit = row["value"] in (ev.cities if row["kind"] == "city" else ev.countries)
            unknown.setdefault(row["split"], []).append(hit)
    false: dict[str, list[bool]] = {}
    false_country: dict[str, list[bool]] = {}
    for row in empty:
        ev = find_evidence(row["text"], 2026, lexicon, row["lang"])
        false.setdefault(row["lang"], []).append(bool(ev.cities or ev.shops or ev.brands))
        false_country.setdefault(row["lang"], []).append(bool(ev.countries))

    langs = sorted({lang for lang, _, _ in found} | set(false))
    print(f"\nplace names in real sentences ({len(rows)} sentences, UD dev/test files)")
    print("recall (sentences): inflected forms dev | held-out test; names as listed dev+test")
    print(
        f"{'lang':>4}  {'infl dev':>10}  {'infl test':>10}  {'plain':>10}  "
        f"{'false c/s/b':>11}  {'false cntry':>11}  dev misses"
    )
    for lang in langs:
        plain = found.get((lang, "dev", "no"), []) + found.get((lang, "test", "no"), [])
        print(
            f"{lang:>4}  {_rate(found.get((lang, 'dev', 'yes'), []))}  "
            f"{_rate(found.get((lang, 'test', 'yes'), []))}  {_rate(plain)}  "
            f"{_rate(false.get(lang, []))}  {_rate(false_country.get(lang, []))}  "
            f"{' '.join(misses.get(lang, [])[:8])}"
        )
    for split in ("dev", "test"):
        inflected = [
            h for (_, s, i), hits in found.items() if s == split and i == "yes" for h in hits
        ]
        plain = [h for (_, s, i), hits in found.items() if s == split and i == "no" for h in hits]
        print(
            f"  all {split:>4}: inflected {sum(inflected) / len(inflected):.3f} "
            f"({len(inflected)}), as listed {sum(plain) / len(plain):.3f} ({len(plain)}); "
            f"inflected with the language unknown (und) {_share(unknown[split])}"
        )
    below = sorted(
        lang
        for lang in langs
        for split in ("dev", "test")
        if len(hits := found.get((lang, split, "yes"), [])) >= 10 and sum(hits) / len(hits) < GOAL
    )
    print(f"  inflected recall below {GOAL} (splits of >= 10 sentences): {' '.join(below) or '-'}")
    all_false = [h for hits in false.values() for h in hits]
    all_country = [h for hits in false_country.values() for h in hits]
    print(
        f"  false evidence on {len(all_false)} sentences without names: city/shop/brand "
        f"{sum(all_false) / len(all_false):.3f}, country {sum(all_country) / len(all_country):.3f}"
    )

    texts = [(row["text"], row["lang"]) for row in rows + empty]
    passes = []
    for _ in range(PASSES):
        analyse.cache_clear()
        c = time.process_time()
        for text, lang in texts:
            find_evidence(text, 2026, lexicon, lang)
        passes.append((time.process_time() - c) / len(texts))
    print(
        f"find_evidence: {statistics.median(passes) * 1e6:.0f} µs CPU per sentence "
        f"(median of {PASSES} passes over {len(texts)} sentences, text cache cleared)"
    )


if __name__ == "__main__":
    main()
