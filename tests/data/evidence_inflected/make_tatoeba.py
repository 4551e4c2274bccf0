"""Add Tatoeba sentences naming places to sentences.tsv, for languages whose UD treebank names none.

Run by hand (never at build), after make_ud.py:

    python tests/data/evidence_inflected/make_tatoeba.py LANG FILE...

where each FILE is a Tatoeba-Challenge pair file with English on one side
(github.com/Helsinki-NLP/Tatoeba-Challenge, ``data/test/eng-ltz/test.txt``: lines of
``eng<TAB>ltz<TAB>English<TAB>translation``) and LANG is the tip language of the other side
(``lb``). Rows of LANG already in sentences.tsv from this script are replaced.

Tatoeba sentences carry no lemmas, so the place a sentence names is read off its English side:
a sentence counts when its English text holds a country or city of the packaged lexicon
written as listed (a capitalised name, not an adjective or a language: "Luxembourgish" names
no place), and each such place is expected to be found in the translation (one row per place:
"I live in Germany and I work in Luxembourg" gives two). The inflection table is NOT
used to label, so the set stays independent of it. ``inflected`` is "no" when the translation
holds that place's name as listed (after case and accent folding), else "yes". A translation
that leaves the place out (Tatoeba translates freely: "I live in Luxembourg City" -> "Ech
wunnen an der Stad") then counts as a miss: nothing is picked or dropped by hand.

Split: the file's lines alternate, even lines ``dev``, odd lines ``test`` (as make_ud.py does
for a treebank with one readable file); a translation seen before is skipped.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT))

from processors.lexicon import (  # noqa: E402
    Entry,
    _add_places,
    _add_shops,
    _Builder,
    _read_lexicon_file,
    fold,
    tokens,
)

OUT = HERE / "sentences.tsv"
MAX_NGRAM = 3
SOURCE = "Tatoeba-Challenge"


def _places(text: str, names: dict[str, tuple[Entry, ...]]) -> set[tuple[str, str]]:
    """(kind, value) of every country or city ``text`` names as listed, capitalised."""
    words = [m.group() for m in tokens(text)]
    folded = [fold(w) for w in words]
    found: set[tuple[str, str]] = set()
    i = 0
    while i < len(words):
        for n in range(min(MAX_NGRAM, len(words) - i), 0, -1):
            entries = names.get(" ".join(folded[i : i + n]))
            if entries and words[i][:1].isupper():
                found.update((e.kind, e.value) for e in entries)
                i += n
                break
        else:
            i += 1
    return found


def main() -> None:
    lang, files = sys.argv[1], sys.argv[2:]
    builder = _Builder()
    _add_places(builder)
    _add_shops(builder, _read_lexicon_file(None))
    names = {
        key: entries
        for key, v in builder.ngrams.items()
        if (entries := tuple(e for e in v if e.kind in ("country", "city") and e.case != "exact"))
    }
    with OUT.open(encoding="utf-8") as fh:
        reader = csv.reader(fh, delimiter="\t")
        header = next(reader)
        rows = [r for r in reader if not (r[0] == lang and r[2].startswith(SOURCE))]
    added = {"dev": 0, "test": 0}
    seen: set[str] = set()
    for name in files:
        path = Path(name)
        label = f"{SOURCE}/{path.parent.parent.name}/{path.parent.name}/{path.name}"
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            _, _, english, text = line.split("\t")
            places = _places(english, names)
            if not places or text in seen:
                continue
            seen.add(text)
            listed = _places(text, names)
            split = "dev" if number % 2 == 0 else "test"
            for kind, value in sorted(places):
                rows.append(
                    [
                        lang,
                        split,
                        label,
                        f"line-{number + 1}",
                        "",
                        "",
                        "no" if (kind, value) in listed else "yes",
                        kind,
                        value,
                        text,
                    ]
                )
                added[split] += 1
    with OUT.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter="\t", lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    print(f"{lang}: {added['dev']} dev, {added['test']} test sentences -> {OUT}")


if __name__ == "__main__":
    main()
