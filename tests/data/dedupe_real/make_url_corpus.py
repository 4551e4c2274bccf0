"""Convert the Twitter URL Corpus test file into url_corpus.jsonl.gz (run by hand, not at build).

Usage: python tests/data/dedupe_real/make_url_corpus.py Twitter_URL_Corpus_test.txt
(from github.com/lanwuwei/Twitter-URL-Corpus, commit ea41a9c). Each line: the original tweet
(a news headline), another tweet sharing its link, "(n,6)" crowd votes, the t.co link.
Labels as the authors' README: n >= 4 paraphrase, n <= 2 not, n == 3 debatable (kept with
"duplicate": null, left out of precision/recall).

Split, fixed before any result was seen: by link, so one news story's flood of tweets is
wholly in one split: "dev" when the first byte of SHA-256(link) is < 102 (~40 %), else
"heldout".
"""

from __future__ import annotations

import gzip
import hashlib
import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent / "url_corpus.jsonl.gz"


def main() -> None:
    rows = []
    for n, line in enumerate(Path(sys.argv[1]).read_text(encoding="utf-8").splitlines(), 1):
        cols = line.split("\t")
        if len(cols) < 4:
            continue
        a, b, votes, link = (c.strip() for c in cols[:4])
        k = int(votes.strip("()").split(",")[0])
        split = "dev" if hashlib.sha256(link.encode()).digest()[0] < 102 else "heldout"
        rows.append(
            {
                "id": f"url-{n:05d}",
                "split": split,
                "link": link,
                "a": a,
                "b": b,
                "label": votes,
                "duplicate": True if k >= 4 else (None if k == 3 else False),
            }
        )
    with gzip.open(OUT, "wt", encoding="utf-8", compresslevel=9) as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} pairs -> {OUT}")


if __name__ == "__main__":
    main()
