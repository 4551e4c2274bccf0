"""Generate processors/data/inflections.tsv.gz: inflected forms of the lexicon's one-word names.

Run by hand when the lexicon or simplemma changes (never at build or at run time):

    .venv/bin/python scripts/make_inflections.py

simplemma (PyPI, MIT code; dictionaries from Wiktionary and other open sources, licences in
its ``licenses`` folder) maps word forms to lemmas in ~50 languages. Every form whose lemma
is a one-word country, city, shop or brand name of the packaged lexicon is written out as
``form<TAB>name``, both folded (``lexicon.fold``): "wiedniu -> wieden", "вене -> вена",
"becsben -> becs".

Shop and brand names, which dictionaries do not list, get the forms of the dictionary's own
words that end like them, by analogy: Polish "talizman" has the forms
"talizmana", "talizmanie", so "Rossmann" gets "rossmanna", "rossmannie". Only endings the
dictionary shows being added to a whole lemma (``lemma + ending``, at most 4 letters) are
used, the model word must share the name's last ``ANALOGY_SUFFIX`` letters, and a generated
form that the dictionary knows as a form of something else is dropped.

Left out everywhere: forms shorter than 4 letters, forms that are a name themselves, and
forms whose lemma differs between dictionaries (one form, two names: no lead is better than
a wrong one). Loading all dictionaries takes a few minutes and ~1 GB.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simplemma.strategies.dictionaries.dictionary_factory import (  # noqa: E402
    _load_dictionary_from_disk,
)

from processors.lexicon import (  # noqa: E402
    _add_places,
    _add_shops,
    _Builder,
    _read_lexicon_file,
    fold,
)

OUT = ROOT / "processors" / "data" / "inflections.tsv.gz"
# simplemma dictionaries for the languages of the public site (hbs covers hr) and tipline's
# other detected languages.
LANGUAGES = (
    "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "gd", "hbs", "hu", "is",
    "it", "lb", "lt", "lv", "mk", "nb", "nl", "nn", "pl", "pt", "ro", "ru", "sk", "sl", "sv",
    "tr", "uk",
)  # fmt: skip
MIN_FORM = 4
MIN_NAME = 4
ANALOGY_SUFFIX = 3
MAX_ENDING = 4


def _paradigms(table: dict[bytes, bytes]) -> dict[str, tuple[str, ...]]:
    """Per last-``ANALOGY_SUFFIX`` letters: the endings of the word with the most of them."""
    endings: dict[str, set[str]] = {}
    for raw_form, raw_lemma in table.items():
        lemma, form = raw_lemma.decode("utf-8"), raw_form.decode("utf-8")
        if lemma[:1].isupper() or not lemma.isalpha() or len(lemma) < MIN_NAME + 1:
            continue  # proper nouns' own paradigms are too irregular to copy
        if form.startswith(lemma) and 0 < len(form) - len(lemma) <= MAX_ENDING:
            endings.setdefault(lemma, set()).add(form[len(lemma) :])
    best: dict[str, tuple[str, ...]] = {}
    for lemma, found in endings.items():
        key = fold(lemma[-ANALOGY_SUFFIX:])
        if len(found) > len(best.get(key, ())):
            best[key] = tuple(sorted(found))
    return best


def main() -> None:
    builder = _Builder()
    _add_places(builder)
    _add_shops(builder, _read_lexicon_file(None))
    names = {
        key
        for key, entries in builder.ngrams.items()
        if " " not in key and any(e.case != "exact" for e in entries)
    }
    # Analogy only for shop and brand names: dictionaries list most towns and countries, and
    # guessing their forms too made more forms ambiguous than it found (measured on the UD set).
    shop_names = sorted(
        key
        for key in names
        if any(e.kind in ("shop", "brand") and e.case != "exact" for e in builder.ngrams[key])
    )
    taken = set(builder.ngrams)
    forms: dict[str, set[str]] = {}
    for language in LANGUAGES:
        table = _load_dictionary_from_disk(language)
        n = 0
        for raw_form, raw_lemma in table.items():
            name = fold(raw_lemma.decode("utf-8"))
            if name not in names:
                continue
            form = fold(raw_form.decode("utf-8"))
            if form == name or len(form) < MIN_FORM or form in taken or " " in form:
                continue
            forms.setdefault(form, set()).add(name)
            n += 1
        known = {fold(f.decode("utf-8")) for f in table}
        paradigms = _paradigms(table)
        m = 0
        for name in shop_names:
            if len(name) < MIN_NAME or not name.isalpha():
                continue
            for ending in paradigms.get(name[-ANALOGY_SUFFIX:], ()):
                form = fold(name + ending)
                if form in taken or form in known:
                    continue
                forms.setdefault(form, set()).add(name)
                m += 1
        print(f"{language}: {n} forms from the dictionary, {m} by analogy", flush=True)
    lines = sorted(f"{form}\t{next(iter(v))}" for form, v in forms.items() if len(v) == 1)
    OUT.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode("utf-8"), mtime=0))
    print(f"{len(lines)} forms of {len({ln.split(chr(9))[1] for ln in lines})} names -> {OUT}")


if __name__ == "__main__":
    main()
