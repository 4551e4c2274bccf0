"""Add Universal Dependencies sentences for the languages issue #12 added (is, lb, mk, nb, nn, gd).

Run once by hand (needs the treebanks as git directories, e.g. from the workplace ``fetch`` tool):

    python tests/data/language/build_ud.py /work/.mirror

Selection is fixed *before* any detector sees the text and never depends on its output: the
``# text`` lines of each treebank file are ordered by SHA-256 of ``"pick:" + sentence`` (not
of the sentence alone, which decides the split: ordering by it put every pick in ``dev``), and
the first ``SHORT_N`` sentences of 15–59 characters and ``LONG_N`` of 60–200 characters are
kept. Lines with fewer than eight letters, digits-only lines, and lines already in the set are
skipped. The split is the one the rest of the set uses: ``dev`` when the first byte of
SHA-256(text) < 102.
"""

from __future__ import annotations

import csv
import hashlib
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
TSV = HERE / "sentences.tsv"
SHORT_N, LONG_N = 35, 45
# The close pairs (issue #12 follow-up): more short sentences, the kind tips are made of.
CLOSE_SHORT_N, CLOSE_LONG_N = 40, 20
CLOSE = (CLOSE_SHORT_N, CLOSE_LONG_N, "/test")
# (gold label, treebank repository, file inside it, short count, long count, source label).
# The label is what the ``source`` column says; a re-run replaces the rows with its labels.
# The close-pair rows have their own label ("<repo>/test") so the sentences copied by hand
# earlier from the same treebanks (source = repository name) are kept.
SOURCES = (
    ("is", "UD_Icelandic-Modern", "is_modern-ud-test.conllu", SHORT_N, LONG_N, ""),
    # nb/nn: 40 more short and 10 more long than the first build (the order is the same, so
    # the first build's picks are a subset). Never the dev files: the word table learns there.
    ("nb", "UD_Norwegian-Bokmaal", "no_bokmaal-ud-test.conllu", 75, 55, ""),
    ("nn", "UD_Norwegian-Nynorsk", "no_nynorsk-ud-test.conllu", 75, 55, ""),
    ("lb", "UD_Luxembourgish-LuxBank", "lb_luxbank-ud-test.conllu", SHORT_N, LONG_N, ""),
    ("gd", "UD_Scottish_Gaelic-ARCOSG", "gd_arcosg-ud-test.conllu", SHORT_N, LONG_N, ""),
    ("mk", "UD_Macedonian-MTB", "mk_mtb-ud-test.conllu", SHORT_N, LONG_N, ""),
    ("da", "UD_Danish-DDT", "da_ddt-ud-test.conllu", *CLOSE),
    ("sv", "UD_Swedish-Talbanken", "sv_talbanken-ud-test.conllu", *CLOSE),
    ("bg", "UD_Bulgarian-BTB", "bg_btb-ud-test.conllu", *CLOSE),
    ("cs", "UD_Czech-FicTree", "cs_fictree-ud-test.conllu", *CLOSE),
    ("sk", "UD_Slovak-SNK", "sk_snk-ud-test.conllu", *CLOSE),
    ("ru", "UD_Russian-GSD", "ru_gsd-ud-test.conllu", *CLOSE),
    ("uk", "UD_Ukrainian-IU", "uk_iu-ud-test.conllu", *CLOSE),
    ("hr", "UD_Croatian-SET", "hr_set-ud-test.conllu", *CLOSE),
    ("sl", "UD_Slovenian-SSJ", "sl_ssj-ud-test.conllu", *CLOSE),
    ("ga", "UD_Irish-IDT", "ga_idt-ud-test.conllu", *CLOSE),
)  # fmt: skip


def digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def sentences(mirror: Path, repo: str, name: str) -> list[str]:
    git_dir = mirror / f"UniversalDependencies+{repo}" / "repo"
    conllu = subprocess.run(
        ["git", f"--git-dir={git_dir}", "show", f"HEAD:{name}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    out = []
    for line in conllu.splitlines():
        if line.startswith("# text = "):
            text = " ".join(line[len("# text = ") :].split())
            # '"' would need csv quoting, which the readers (QUOTE_NONE) do not undo.
            if sum(c.isalpha() for c in text) >= 8 and '"' not in text and "\t" not in text:
                out.append(text)
    return out


def pick_order(text: str) -> bytes:
    return hashlib.sha256(b"pick:" + text.encode("utf-8")).digest()


def pick(texts: list[str], skip: Callable[[str], bool], short_n: int, long_n: int) -> list[str]:
    """Up to ``short_n`` sentences of 15-59 characters and ``long_n`` of 60-200, in a fixed
    pseudo-random order (``pick_order``), leaving out those ``skip`` refuses."""
    short: list[str] = []
    long: list[str] = []
    for text in sorted(set(texts), key=pick_order):
        if skip(text):
            continue
        if 15 <= len(text) < 60 and len(short) < short_n:
            short.append(text)
        elif 60 <= len(text) <= 200 and len(long) < long_n:
            long.append(text)
    return short + long


def main(mirror: Path) -> None:
    with TSV.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    ours = {repo + suffix for _, repo, _, _, _, suffix in SOURCES}
    rows = [r for r in rows if r["source"] not in ours]  # a re-run replaces its own rows
    seen = {r["text"] for r in rows}
    for lang, repo, name, short_n, long_n, suffix in SOURCES:
        chosen = pick(sentences(mirror, repo, name), lambda t: t in seen, short_n, long_n)
        for text in chosen:
            seen.add(text)
            split = "dev" if digest(text)[0] < 102 else "test"
            rows.append({"lang": lang, "split": split, "source": repo + suffix, "text": text})
        short = sum(len(t) < 60 for t in chosen)
        print(f"{lang}: {short} short + {len(chosen) - short} long from {repo}/{name}")
    # Written by hand, not with csv: existing rows hold quotes that QUOTE_NONE cannot write.
    with TSV.open("w", encoding="utf-8", newline="") as fh:
        fh.write("lang\tsplit\tsource\ttext\n")
        for r in rows:
            fh.write(f"{r['lang']}\t{r['split']}\t{r['source']}\t{r['text']}\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
