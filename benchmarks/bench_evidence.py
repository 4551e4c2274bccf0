"""bench_evidence: inflected place names in real sentences, recall per language; µs per tip.

Also the cost of matching against the whole lexicon (curated entries, the gazetteer and the
~9,000 NSI chains): CPU µs per sentence (``time.process_time``, so other load on the machine
does not count), which must not grow with the number of entries (one dict lookup per token).

Data: tests/data/evidence_inflected/sentences.tsv (Universal Dependencies test files; each
sentence names a country or city in an inflected form, found by the treebank's LEMMA column).
A sentence counts as found when ``find_evidence`` returns the expected country or city.

Run: .venv/bin/python benchmarks/bench_evidence.py   (part of `make bench`)
"""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from processors.evidence import find_evidence
from processors.lexicon import load_lexicon

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "evidence_inflected"


def main() -> None:
    start = time.perf_counter()
    lexicon = load_lexicon()
    print(
        f"lexicon built in {time.perf_counter() - start:.2f} s: {len(lexicon.ngrams):,} names, "
        f"{len(lexicon.shops):,} shops, {len(lexicon.brand_countries):,} brands"
    )
    with (DATA / "sentences.tsv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    by_lang: dict[str, list[bool]] = {}
    misses: dict[str, list[str]] = {}
    times = []
    cpu = 0.0
    for row in rows:
        t, c = time.perf_counter(), time.process_time()
        ev = find_evidence(row["text"], 2026, lexicon)
        cpu += time.process_time() - c
        times.append(time.perf_counter() - t)
        found = row["value"] in (ev.cities if row["kind"] == "city" else ev.countries)
        by_lang.setdefault(row["lang"], []).append(found)
        if not found:
            misses.setdefault(row["lang"], []).append(row["form"])
    print(f"\ninflected place names in real sentences ({len(rows)} sentences, UD test files)")
    print(f"{'lang':>5} {'sentences':>9} {'recall':>7}  missed forms")
    for lang, hits in sorted(by_lang.items()):
        print(
            f"{lang:>5} {len(hits):>9} {sum(hits) / len(hits):>7.3f}  "
            f"{' '.join(misses.get(lang, [])[:10])}"
        )
    total = [h for hits in by_lang.values() for h in hits]
    print(f"  all {len(total):>9} {sum(total) / len(total):>7.3f}   goal >= 0.9 per language")
    times.sort()
    print(
        f"find_evidence: p50 {times[len(times) // 2] * 1e6:.0f} µs, "
        f"mean {sum(times) / len(times) * 1e6:.0f} µs per sentence (wall); "
        f"{cpu / len(rows) * 1e6:.0f} µs CPU per sentence"
    )


if __name__ == "__main__":
    main()
