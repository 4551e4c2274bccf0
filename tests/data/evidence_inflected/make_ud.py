"""Build sentences.tsv and no_names.tsv from Universal Dependencies treebanks.

Run by hand (never at build): python tests/data/evidence_inflected/make_ud.py MIRROR...
where each MIRROR is a fetched Universal Dependencies treebank git directory (its newest
commit's *-ud-dev.conllu and *-ud-test.conllu are read).

sentences.tsv: a token counts when its UPOS is PROPN and its LEMMA is a one-word country or
city name of the packaged lexicon (CLDR names, places.toml; the inflections file is NOT used
here, so the set is independent of it). ``inflected`` is "yes" when its FORM differs from the
lemma and is not itself a name ("Wiedniu", lemma "Wiedeń"), "no" when it is the name as
listed ("Wien"): languages whose place names do not inflect (en, fr, es, ...) are then still
measured. At most PER_SPLIT inflected and PLAIN_PER_SPLIT plain sentences per language and
split, in file order (treebanks without lemmas, Maltese MUDT: plain names only). Expected
evidence = what the lemma means in the lexicon.

no_names.tsv: sentences with no PROPN token at all (at most NO_NAMES_PER_SPLIT per language
and split, in file order): any city, shop or brand found there is false evidence.

Split: the treebank's own dev file is ``dev`` (misses may be read and fixed there), its test
file is ``test`` (held out: never read to tune). A treebank with only one of the two readable
files (a file of 4 MiB or more may be absent from the store) splits it by sentence: even
sentences dev, odd sentences test.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT))

from processors.lexicon import (  # noqa: E402
    _add_places,
    _add_shops,
    _Builder,
    _read_lexicon_file,
    fold,
)

OUT = HERE / "sentences.tsv"
OUT_NO_NAMES = HERE / "no_names.tsv"
PER_SPLIT = 40
PLAIN_PER_SPLIT = 10
NO_NAMES_PER_SPLIT = 40


def _git(repo: str, *args: str) -> str:
    return subprocess.run(
        ["git", "--git-dir", repo, *args], check=True, capture_output=True, text=True
    ).stdout


def _sentences(body: str) -> list[tuple[str, str, list[list[str]]]]:
    """(sent_id, text, token rows) per sentence; multi-word token lines are left out."""
    out = []
    text = sent_id = ""
    rows: list[list[str]] = []
    for line in [*body.splitlines(), ""]:
        if line.startswith("# text = "):
            text = line[9:].strip()
        elif line.startswith("# sent_id = "):
            sent_id = line[12:].strip()
        elif line and not line.startswith("#"):
            cols = line.split("\t")
            if len(cols) >= 4 and cols[0].isdigit():
                rows.append(cols)
        elif not line and rows:
            out.append((sent_id, text, rows))
            text = sent_id = ""
            rows = []
    return out


def _read(repo: str, name: str) -> str:
    try:
        return _git(repo, "show", f"HEAD:{name}")
    except subprocess.CalledProcessError:
        return ""


def main() -> None:
    builder = _Builder()
    _add_places(builder)
    _add_shops(builder, _read_lexicon_file(None))
    names = {
        k: v
        for k, v in builder.ngrams.items()
        if " " not in k and any(e.kind in ("country", "city") and e.case != "exact" for e in v)
    }
    rows: list[list[str]] = []
    no_names: list[list[str]] = []
    for mirror in sys.argv[1:]:
        repo = str(Path(mirror, ".git")) if Path(mirror, ".git").exists() else mirror
        files = _git(repo, "ls-tree", "--name-only", "HEAD").split()
        treebank = next(p for p in Path(mirror).parts if p.startswith("UniversalDependencies+"))
        treebank = treebank.split("+", 1)[1]
        parts: dict[str, tuple[str, list[tuple[str, str, list[list[str]]]]]] = {}
        for split, end in (("dev", "dev"), ("test", "test")):
            for name in files:
                if name.endswith(f"-ud-{end}.conllu") and (body := _read(repo, name)):
                    parts[split] = (name, _sentences(body))
        if not parts:
            print(f"no readable dev or test file in {mirror}")
            continue
        if len(parts) == 1:
            ((name, sentences),) = parts.values()
            parts = {"dev": (name, sentences[0::2]), "test": (name, sentences[1::2])}
        for split, (name, sentences) in parts.items():
            lang = name.split("_")[0]
            counts: Counter[str] = Counter()
            seen: set[str] = set()
            for sent_id, text, tokens in sentences:
                if not text or text in seen:
                    continue
                if not any(cols[3] == "PROPN" for cols in tokens):
                    if counts["none"] < NO_NAMES_PER_SPLIT:
                        no_names.append([lang, split, f"{treebank}/{name}", sent_id, text])
                        counts["none"] += 1
                        seen.add(text)
                    continue
                for cols in tokens:
                    if cols[3] != "PROPN":
                        continue
                    # MUDT (Maltese) has no lemmas: its names count as written.
                    form = fold(cols[1])
                    lemma = form if cols[2] == "_" else fold(cols[2])
                    if lemma not in names:
                        continue
                    if form == lemma:
                        inflected = "no"
                        if counts[inflected] >= PLAIN_PER_SPLIT:
                            continue
                    elif form in builder.ngrams:
                        continue
                    else:
                        inflected = "yes"
                        if counts[inflected] >= PER_SPLIT:
                            continue
                    entry = next(e for e in names[lemma] if e.kind in ("country", "city"))
                    rows.append(
                        [
                            lang,
                            split,
                            f"{treebank}/{name}",
                            sent_id,
                            cols[1],
                            cols[2],
                            inflected,
                            entry.kind,
                            entry.value,
                            text,
                        ]
                    )
                    seen.add(text)
                    counts[inflected] += 1
                    break
            print(
                f"{lang} {treebank} {split}: {counts['yes']} inflected, {counts['no']} plain, "
                f"{counts['none']} without names"
            )
    header = ["lang", "split", "treebank", "sent_id", "form", "lemma", "inflected", "kind"]
    with OUT.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter="\t", lineterminator="\n")
        writer.writerow([*header, "value", "text"])
        writer.writerows(rows)
    with OUT_NO_NAMES.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter="\t", lineterminator="\n")
        writer.writerow(["lang", "split", "treebank", "sent_id", "text"])
        writer.writerows(no_names)
    print(f"{len(rows)} sentences -> {OUT}; {len(no_names)} -> {OUT_NO_NAMES}")


if __name__ == "__main__":
    main()
