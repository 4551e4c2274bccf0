"""Build minimal_pairs.jsonl: real sentences with ONE claim changed, pairs that must never merge.

Run by hand (not at build): python tests/data/dedupe_real/make_minimal_pairs.py PIT_DIR
(PIT_DIR as for make_pit.py). Two sources of real sentences:

* tests/data/language/sentences.tsv (real sentences in 28 languages; sources and licences in
  tests/data/language/README.md). A sentence in which the packaged lexicon finds a country,
  city, shop or brand gets that name replaced by another name of the same kind ("entity");
  a sentence with a number gets that number changed ("number"). Split = the sentence's own
  split in sentences.tsv (dev -> dev, test -> heldout), fixed before any result was seen.
* SemEval-2015 PIT tweets (dev.data, test.data) with a geo-loc, company or product entity in
  the organisers' NE tags: the entity is swapped for one of the same type from another topic
  ("entity"). Split = the PIT split (dev -> dev, test -> heldout).

Replacements are picked deterministically (SHA-256 of the sentence), so re-running gives the
same file. The replacement word is not inflected for the sentence's grammar: the pair is
"same words, another place/shop", which is exactly what dedupe must keep apart.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT))

from processors.lexicon import fold, load_lexicon, tokens  # noqa: E402

OUT = HERE / "minimal_pairs.jsonl"
SENTENCES = ROOT / "tests" / "data" / "language" / "sentences.tsv"
_NUMBER = re.compile(r"(?<![\w.,])\d+(?![\w.,]\d)")


def _pick(options: list[str], seed: str, avoid: str) -> str:
    choices = [o for o in options if fold(o) != fold(avoid)]
    h = int(hashlib.sha256(seed.encode()).hexdigest(), 16)
    return choices[h % len(choices)]


def _lexicon_pairs(rows: list[dict[str, str]]) -> list[dict[str, object]]:
    lexicon = load_lexicon()
    surfaces: dict[str, list[str]] = {}
    for entries in lexicon.ngrams.values():
        for e in entries:
            if e.surface[:1].isupper() and e.surface.isalpha():
                surfaces.setdefault(e.kind, []).append(e.surface)
    for kind, names in surfaces.items():
        surfaces[kind] = sorted(set(names))
    out: list[dict[str, object]] = []
    for row in rows:
        text, lang = row["text"], row["lang"]
        split = "dev" if row["split"] == "dev" else "heldout"
        matches = list(tokens(text))
        folded = [fold(m.group()) for m in matches]
        for i in range(len(folded)):
            n, entries = lexicon.lookup(folded, i)
            if not n:
                continue
            kind = entries[0].kind
            start, end = matches[i].start(), matches[i + n - 1].end()
            new = _pick(surfaces[kind], text, text[start:end])
            out.append(
                {
                    "lang": lang,
                    "split": split,
                    "kind": f"entity:{kind}",
                    "source": row["source"],
                    "a": text,
                    "b": text[:start] + new + text[end:],
                }
            )
            break
        number = _NUMBER.search(text)
        if number:
            old = number.group()
            new_number = str(int(old) + 1 + int(hashlib.sha256(text.encode()).hexdigest(), 16) % 7)
            out.append(
                {
                    "lang": lang,
                    "split": split,
                    "kind": "number",
                    "source": row["source"],
                    "a": text,
                    "b": text[: number.start()] + new_number + text[number.end() :],
                }
            )
    return out


def _pit_pairs(pit: Path) -> list[dict[str, object]]:
    types = ("geo-loc", "company", "product")
    out: list[dict[str, object]] = []
    for split, name in (("dev", "dev.data"), ("heldout", "test.data")):
        sentences: dict[str, tuple[str, list[tuple[str, str, int, int]]]] = {}
        for line in (pit / name).read_text(encoding="utf-8").splitlines():
            cols = line.split("\t")
            for tagged in (cols[5], cols[6]):
                words, spans = [], []
                for n, tok in enumerate(tagged.split(" ")):
                    parts = tok.rsplit("/", 4)
                    words.append(parts[0])
                    ne = parts[1]
                    if ne.startswith("B-") and ne[2:] in types:
                        spans.append([ne[2:], n, n + 1])
                    elif ne.startswith("I-") and spans and spans[-1][2] == n:
                        spans[-1][2] = n + 1
                sentences.setdefault(
                    " ".join(words),
                    (cols[0], [(t, " ".join(words[s:e]), s, e) for t, s, e in spans]),
                )  # type: ignore[misc]
        pool: dict[str, list[tuple[str, str]]] = {}
        for topic, spans in sentences.values():
            for t, surface, _, _ in spans:
                pool.setdefault(t, []).append((topic, surface))
        for text, (topic, spans) in sentences.items():
            if not spans:
                continue
            t, surface, s, e = spans[0]
            others = sorted({o for top, o in pool[t] if top != topic and fold(o) != fold(surface)})
            if not others:
                continue
            new = _pick(others, text, surface)
            words = text.split(" ")
            out.append(
                {
                    "lang": "en",
                    "split": split,
                    "kind": f"entity:{t}",
                    "source": f"SemEval-2015 PIT {name}",
                    "a": text,
                    "b": " ".join([*words[:s], new, *words[e:]]),
                }
            )
    return out


def main() -> None:
    with SENTENCES.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    pairs = _lexicon_pairs(rows) + _pit_pairs(Path(sys.argv[1]))
    with OUT.open("w", encoding="utf-8") as fh:
        for n, pair in enumerate(pairs, 1):
            fh.write(json.dumps({"id": f"mp-{n:05d}", **pair}, ensure_ascii=False) + "\n")
    print(f"{len(pairs)} pairs -> {OUT}")


if __name__ == "__main__":
    main()
