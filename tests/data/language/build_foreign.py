"""Build ``foreign.tsv``: real sentences in languages the site does not offer (answer: ``und``).

Run once by hand (needs the treebanks as git directories, e.g. from the workplace ``fetch`` tool):

    python tests/data/language/build_foreign.py /work/.mirror

Same rules as ``build_ud.py``, fixed before any detector saw the text: from each treebank's
**test** file, the ``# text`` lines ordered by SHA-256 of ``"pick:" + sentence``, the first
``SHORT_N`` of 15–59 characters and ``LONG_N`` of 60–200; the split is ``dev`` when the first
byte of SHA-256(text) < 102. The languages are neighbours of supported ones, the likeliest to
be read as one of them: Galician (es/pt), Serbian in Latin script (hr), Faroese
(is/da/nb/nn), Afrikaans (nl), Welsh (ga/gd). (UD Catalan's test file is over the fetch
tool's 4 MiB limit; the unit test keeps one Catalan sentence.)
"""

from __future__ import annotations

import sys
from pathlib import Path

from build_ud import digest, pick_order, sentences

HERE = Path(__file__).resolve().parent
TSV = HERE / "foreign.tsv"
SHORT_N, LONG_N = 25, 15
# (ISO 639-1 of the text, treebank repository, its test file)
SOURCES = (
    ("gl", "UD_Galician-TreeGal", "gl_treegal-ud-test.conllu"),
    ("sr", "UD_Serbian-SET", "sr_set-ud-test.conllu"),
    ("fo", "UD_Faroese-OFT", "fo_oft-ud-test.conllu"),
    ("af", "UD_Afrikaans-AfriBooms", "af_afribooms-ud-test.conllu"),
    ("cy", "UD_Welsh-CCG", "cy_ccg-ud-test.conllu"),
)


def main(mirror: Path) -> None:
    with TSV.open("w", encoding="utf-8", newline="") as fh:
        fh.write("lang\tsplit\tsource\ttext\n")
        for lang, repo, name in SOURCES:
            short: list[str] = []
            long: list[str] = []
            for text in sorted(set(sentences(mirror, repo, name)), key=pick_order):
                if 15 <= len(text) < 60 and len(short) < SHORT_N:
                    short.append(text)
                elif 60 <= len(text) <= 200 and len(long) < LONG_N:
                    long.append(text)
            for text in short + long:
                split = "dev" if digest(text)[0] < 102 else "test"
                fh.write(f"{lang}\t{split}\t{repo}/test\t{text}\n")
            print(f"{lang}: {len(short)} short + {len(long)} long from {repo}/{name}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
