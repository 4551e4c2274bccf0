"""Build sentences.tsv: real sentences naming a country or city in an INFLECTED form.

Run by hand (never at build): python tests/data/evidence_inflected/make_ud.py MIRROR...
where each MIRROR is a fetched Universal Dependencies treebank git directory (its newest
commit's *-ud-test.conllu is read). A token counts when its UPOS is PROPN, its LEMMA is a
one-word country or city name of the packaged lexicon (CLDR names, places.toml; the
inflections file is NOT used here, so the set is independent of it), and its FORM differs
from the lemma and is not itself a name ("Wiedniu", lemma "Wiedeń"). At most 60 sentences per
language, in file order. Expected evidence = what the lemma means in the lexicon.
"""

from __future__ import annotations

import csv
import subprocess
import sys
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
PER_LANGUAGE = 60


def _git(repo: str, *args: str) -> str:
    return subprocess.run(
        ["git", "--git-dir", repo, *args], check=True, capture_output=True, text=True
    ).stdout


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
    for mirror in sys.argv[1:]:
        repo = str(Path(mirror, ".git")) if Path(mirror, ".git").exists() else mirror
        files = _git(repo, "ls-tree", "--name-only", "HEAD").split()
        # The test file, else dev, else train (a file of 4 MiB or more may be absent).
        test = [
            p for end in ("test", "dev", "train") for p in files if p.endswith(f"-ud-{end}.conllu")
        ]
        body = ""
        for name in test:
            try:
                body = _git(repo, "show", f"HEAD:{name}")
            except subprocess.CalledProcessError:
                continue
            test = [name]
            break
        if not body:
            print(f"no readable conllu file in {mirror}")
            continue
        treebank = next(p for p in Path(mirror).parts if p.startswith("UniversalDependencies+"))
        treebank = treebank.split("+", 1)[1]
        lang = test[0].split("_")[0]
        text = sent_id = ""
        n = 0
        seen: set[str] = set()
        for line in body.splitlines():
            if line.startswith("# text = "):
                text = line[9:].strip()
            elif line.startswith("# sent_id = "):
                sent_id = line[12:].strip()
            elif line and not line.startswith("#"):
                cols = line.split("\t")
                if len(cols) < 4 or not cols[0].isdigit() or cols[3] != "PROPN":
                    continue
                form, lemma = fold(cols[1]), fold(cols[2])
                if lemma not in names or form == lemma or form in builder.ngrams:
                    continue
                if text in seen or n >= PER_LANGUAGE:
                    continue
                entry = next(e for e in names[lemma] if e.kind in ("country", "city"))
                rows.append(
                    [
                        lang,
                        f"{treebank}/{test[0]}",
                        sent_id,
                        cols[1],
                        cols[2],
                        entry.kind,
                        entry.value,
                        text,
                    ]
                )
                seen.add(text)
                n += 1
        print(f"{lang} {treebank}: {n} sentences")
    with OUT.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter="\t", lineterminator="\n")
        writer.writerow(["lang", "treebank", "sent_id", "form", "lemma", "kind", "value", "text"])
        writer.writerows(rows)
    print(f"{len(rows)} sentences -> {OUT}")


if __name__ == "__main__":
    main()
