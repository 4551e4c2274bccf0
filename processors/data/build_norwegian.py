"""Build ``norwegian.json``: word log-probabilities telling Bokmål (nb) from Nynorsk (nn).

py3langid separates Norwegian from Danish and Swedish well but confuses the two written
standards of Norwegian on short sentences; this small naive-Bayes table, trained on real text,
decides between them. Training text: the *dev* files of UD_Norwegian-Bokmaal and
UD_Norwegian-Nynorsk (CC BY-SA 4.0); the evaluation sentences in tests/data/language come from
their *test* files, so training and evaluation text are disjoint. Run by hand:

    python processors/data/build_norwegian.py /work/.mirror
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

SOURCES = {
    "nb": ("UD_Norwegian-Bokmaal", "no_bokmaal-ud-dev.conllu"),
    "nn": ("UD_Norwegian-Nynorsk", "no_nynorsk-ud-dev.conllu"),
}
WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
MIN_COUNT = 1
# Additive smoothing; 0.3 beat 1.0 on the dev split of tests/data/language (nb/nn alone).
ALPHA = 0.3


def words(text: str) -> list[str]:
    return WORD.findall(text.lower())


def main(mirror: Path) -> None:
    counts: dict[str, Counter[str]] = {}
    for lang, (repo, name) in SOURCES.items():
        conllu = subprocess.run(
            [
                "git",
                f"--git-dir={mirror / f'UniversalDependencies+{repo}' / 'repo'}",
                "show",
                f"HEAD:{name}",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        texts = [line[9:] for line in conllu.splitlines() if line.startswith("# text = ")]
        counts[lang] = Counter(w for text in texts for w in words(text))
    vocab = sorted(
        w for w in set().union(*counts.values()) if sum(c[w] for c in counts.values()) >= MIN_COUNT
    )
    model: dict[str, object] = {"source": SOURCES, "unknown": {}, "words": {}}
    table: dict[str, list[float]] = {}
    for lang in SOURCES:
        total = sum(counts[lang][w] for w in vocab) + ALPHA * (len(vocab) + 1)
        model["unknown"][lang] = round(math.log(ALPHA / total), 4)  # type: ignore[index]
        for w in vocab:
            p = (counts[lang][w] + ALPHA) / total
            table.setdefault(w, []).append(round(math.log(p), 4))
    # Keep only words whose two probabilities differ: the rest cannot tell nb from nn.
    model["words"] = {w: v for w, v in table.items() if abs(v[0] - v[1]) >= 0.5}
    out = Path(__file__).with_name("norwegian.json")
    out.write_text(json.dumps(model, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    print(f"{len(model['words'])} words -> {out}")  # type: ignore[arg-type]


if __name__ == "__main__":
    main(Path(sys.argv[1]))
