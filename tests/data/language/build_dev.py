"""Grow the ``dev`` split for the four languages below the goal (da, lv, sl, nb/nn) and their
close neighbours (sv, hr, lt; Serbian in Latin script as a foreign neighbour of hr).

Run once by hand (needs the treebanks as git directories, e.g. from the workplace ``fetch`` tool):

    python tests/data/language/build_dev.py /work/.mirror

The held-out split is left exactly as it is: only sentences that the set's split rule already
puts in ``dev`` (first byte of SHA-256(text) < 102) are taken, so no ``test`` row is added,
moved or removed. Otherwise ``build_ud.py``'s rules, fixed before any detector saw the text:
the ``# text`` lines in SHA-256(``"pick:"`` + sentence) order, the first ``short_n`` of 15–59
characters and ``long_n`` of 60–200, skipping lines with ``"``, fewer than eight letters or
already in either file. Sentences come from each treebank's **dev** file (never read before
for this set), except Norwegian: the nb/nn word table is trained on the UD Norwegian dev
files, so Bokmål and Nynorsk take further sentences from the same **test** files as before.
A re-run replaces the rows it wrote (their ``source`` ends in ``/dev`` or ``/test:dev``).
The second run raised the counts (the first run's rows are the head of each pick order, so they
stay) and added the dev-hash sentences of UD_Danish-DDT's test file (data README).
"""

from __future__ import annotations

import sys
from pathlib import Path

from build_ud import digest, pick, sentences

HERE = Path(__file__).resolve().parent
SENTENCES = HERE / "sentences.tsv"
FOREIGN = HERE / "foreign.tsv"
DEV_SPLIT = 102  # the set's rule: dev when SHA-256(text)[0] < 102
# (gold label, treebank repository, file, short count, long count, source label suffix, file)
SOURCES = (
    ("da", "UD_Danish-DDT", "da_ddt-ud-dev.conllu", 200, 200, "/dev", SENTENCES),
    ("da", "UD_Danish-DDT", "da_ddt-ud-test.conllu", 200, 200, "/test:dev", SENTENCES),
    ("lv", "UD_Latvian-LVTB", "lv_lvtb-ud-dev.conllu", 100, 50, "/dev", SENTENCES),
    ("sl", "UD_Slovenian-SSJ", "sl_ssj-ud-dev.conllu", 200, 200, "/dev", SENTENCES),
    ("nb", "UD_Norwegian-Bokmaal", "no_bokmaal-ud-test.conllu", 300, 300, "/test:dev", SENTENCES),
    ("nn", "UD_Norwegian-Nynorsk", "no_nynorsk-ud-test.conllu", 300, 300, "/test:dev", SENTENCES),
    ("sv", "UD_Swedish-Talbanken", "sv_talbanken-ud-dev.conllu", 100, 50, "/dev", SENTENCES),
    ("hr", "UD_Croatian-SET", "hr_set-ud-dev.conllu", 150, 100, "/dev", SENTENCES),
    ("lt", "UD_Lithuanian-ALKSNIS", "lt_alksnis-ud-dev.conllu", 100, 50, "/dev", SENTENCES),
    ("sr", "UD_Serbian-SET", "sr_set-ud-dev.conllu", 200, 200, "/dev", FOREIGN),
)  # fmt: skip
OURS = ("/dev", "/test:dev")


def read(path: Path) -> list[list[str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.split("\t", 3) for line in lines[1:]]


def main(mirror: Path) -> None:
    tables = {path: read(path) for path in (SENTENCES, FOREIGN)}
    for path, rows in tables.items():  # a re-run replaces its own rows
        tables[path] = [r for r in rows if not r[2].endswith(OURS)]
    seen = {r[3] for rows in tables.values() for r in rows}
    for lang, repo, name, short_n, long_n, suffix, path in SOURCES:
        chosen = pick(
            sentences(mirror, repo, name),
            lambda t: t in seen or digest(t)[0] >= DEV_SPLIT,
            short_n,
            long_n,
        )
        short = sum(len(t) < 60 for t in chosen)
        for text in chosen:
            seen.add(text)
            tables[path].append([lang, "dev", repo + suffix, text])
        print(f"{lang}: {short} short + {len(chosen) - short} long dev from {repo}/{name}")
    for path, rows in tables.items():
        with path.open("w", encoding="utf-8", newline="") as fh:
            fh.write("lang\tsplit\tsource\ttext\n")
            for r in rows:
                fh.write("\t".join(r) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
