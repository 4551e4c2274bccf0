"""Convert the SemEval-2015 PIT data files into pit2015.jsonl.gz (run by hand, not at build).

Usage: python tests/data/dedupe_real/make_pit.py DIR
where DIR holds dev.data, test.data and test.label from the PIT-2015 release (git history of
github.com/cocoxu/twitterparaphrase, commit 4039beb, folder SemEval-PIT2015/data/). Only the
columns topic id, topic name, both sentences and the label are kept (no POS/NE tags).

Labels follow the organisers' README: dev (crowd votes "(n, 5-n)"): n >= 3 paraphrase,
n <= 1 not, n == 2 debatable; test (expert 0-5): 4-5 paraphrase, 0-2 not, 3 debatable.
Debatable pairs are kept with "duplicate": null and left out of precision/recall.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent / "pit2015.jsonl.gz"


def _dev_label(votes: str) -> bool | None:
    n = int(votes.strip("()").split(",")[0])
    return True if n >= 3 else (None if n == 2 else False)


def _test_label(score: str) -> bool | None:
    n = int(score)
    return True if n >= 4 else (None if n == 3 else False)


def main() -> None:
    src = Path(sys.argv[1])
    rows = []
    for split, name in (("dev", "dev.data"), ("heldout", "test.data")):
        lines = (src / name).read_text(encoding="utf-8").splitlines()
        for n, line in enumerate(lines, 1):
            topic_id, topic, a, b, label = line.split("\t")[:5]
            duplicate = _dev_label(label) if split == "dev" else _test_label(label)
            rows.append(
                {
                    "id": f"pit-{split}-{n:05d}",
                    "split": split,
                    "topic_id": topic_id,
                    "topic": topic,
                    "a": a,
                    "b": b,
                    "label": label,
                    "duplicate": duplicate,
                }
            )
    with gzip.open(OUT, "wt", encoding="utf-8", compresslevel=9) as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} pairs -> {OUT}")


if __name__ == "__main__":
    main()
