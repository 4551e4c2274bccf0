"""Build ``close_pairs.json``: per close pair, a word table of log frequency ratios.

Both detectors read Serbian in Latin script as Croatian (heliport has one Serbo-Croatian class,
py3langid leans hr), so ``detect_language`` asks this table, only when its answer is ``hr``,
how much more Serbian than Croatian the words are ("takođe", "tokom", "rešenje", "vreme" against
"također", "tijekom", "rješenje", "vrijeme"); and, when the combined ranking puts Danish and
Norwegian (the list is mostly Bokmål), Slovenian and Croatian, Macedonian and Bulgarian, or
Czech and Slovak within a hair of each other, which of the two it is.
Each word's value is log(p_a / p_b), its frequency per word in language a over that in b,
clipped to +-``CLIP``; a word missing from one list counts as that list's smallest count times
``MISSING``.

Training text: the 50,000 most frequent words per language of hermitdave/FrequencyWords
(``content/2018/<lang>/<lang>_50k.txt``, counted on OpenSubtitles 2018; content CC BY-SA 4.0),
word lists and not sentences, so no sentence of tests/data/language can be in them. ``CLIP``,
``MISSING`` and ``MIN_RATIO`` were chosen on the dev split only (data README). Run by hand, with
the repository fetched into a mirror (the workplace ``fetch`` tool):

    python processors/data/build_close_pairs.py /work/.mirror
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

REPO = "hermitdave+FrequencyWords"
# (language a, language b): the table scores a over b.
# lv-lt was built and tried too: no lv/lt confusion on dev or on the LVTB/ALKSNIS dev sentences
# outside the set, so it is not kept.
PAIRS = (("sr", "hr"), ("da", "no"), ("sl", "hr"), ("mk", "bg"), ("cs", "sk"))
CLIP = 2.0
MISSING = 1.0
# Words whose ratio is smaller say almost nothing and only make the file bigger.
MIN_RATIO = 0.1


def counts(mirror: Path, lang: str) -> dict[str, int]:
    text = subprocess.run(
        [
            "git",
            f"--git-dir={mirror / REPO / 'repo'}",
            "show",
            f"HEAD:content/2018/{lang}/{lang}_50k.txt",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    out: dict[str, int] = {}
    for line in text.splitlines():
        word, _, n = line.rpartition(" ")
        if word:
            out[word.lower()] = out.get(word.lower(), 0) + int(n)
    return out


def table(a: dict[str, int], b: dict[str, int]) -> dict[str, float]:
    total_a, total_b = sum(a.values()), sum(b.values())
    missing_a, missing_b = min(a.values()) * MISSING, min(b.values()) * MISSING
    out: dict[str, float] = {}
    for word in sorted(set(a) | set(b)):
        ratio = math.log(a.get(word, missing_a) / total_a) - math.log(
            b.get(word, missing_b) / total_b
        )
        ratio = max(-CLIP, min(CLIP, ratio))
        if abs(ratio) >= MIN_RATIO:
            out[word] = round(ratio, 3)
    return out


def main(mirror: Path) -> None:
    model: dict[str, object] = {
        "source": "hermitdave/FrequencyWords content/2018/<lang>/<lang>_50k.txt (CC BY-SA 4.0)",
        "clip": CLIP,
        "missing": MISSING,
        "pairs": {f"{a}-{b}": table(counts(mirror, a), counts(mirror, b)) for a, b in PAIRS},
    }
    out = Path(__file__).with_name("close_pairs.json")
    out.write_text(json.dumps(model, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    for name, words in model["pairs"].items():  # type: ignore[attr-defined]
        print(f"{name}: {len(words)} words -> {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
