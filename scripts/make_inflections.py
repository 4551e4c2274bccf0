"""Generate processors/data/inflections.tsv.gz: inflected forms of the lexicon's one-word names.

Run by hand when the lexicon or simplemma changes (never at build or at run time):

    .venv/bin/python scripts/make_inflections.py

simplemma (PyPI, MIT code; dictionaries from Wiktionary and other open sources, licences in
its ``licenses`` folder) maps word forms to lemmas in ~50 languages. Every form whose lemma
is a one-word country, city, shop or brand name of the packaged lexicon is written out as
``form<TAB>name``, both folded (``lexicon.fold``): "wiedniu -> wieden", "вене -> вена",
"becsben -> becs".

Shop and brand names, which dictionaries do not list, get the forms of the dictionary's own
words that end like them, by analogy: a Polish noun in "-han" takes "-ach", "-em", so
"Auchan" gets "auchanach", "auchanem" (a name whose last letters end no dictionary word gets
none: "Rossmann" has no Polish forms). Only endings the
dictionary shows being added to a whole lemma (``lemma + ending``, at most 4 letters) are
used, the model word must share the name's last ``ANALOGY_SUFFIX`` letters, and a generated
form that the dictionary knows as a form of something else is dropped.

The names are those the lexicon loads: the gazetteer, the curated ``lexicon.toml`` and the
~5,850 NSI chains and brands of ``brands.tsv.gz`` ("w Biedronce", "v Lidlu"). A chain's forms
are taken from the dictionaries, and made by analogy, only in the languages of the countries
it trades in (CLDR's official languages of each, from babel; a chain without countries, a web
shop, in all), and from the dictionaries only for a lemma written as the chain is, accents
included: Biedronka gets Polish forms, not Hungarian ones; Slovak "spor" (dispute) is no
form of Spar, nor Swedish "låda" (box) of Lada.

Left out everywhere: forms shorter than 4 letters, forms that are a name themselves, forms
that are a common word much more than their name is ("samo", Croatian "only", is also a form
of Samoa; "toga" of Togo): wordfreq (PyPI, data CC BY-SA 4.0) Zipf >= ``WORD_ZIPF`` in some
language and ``WORD_MARGIN`` above the name's own highest Zipf, and
forms whose lemmas mean different things (one form, two places: no lead is better than a
wrong one). Lemmas that are different names of one thing agree: "Iraku" is Irak (pl, sk,
sl, hr) and Irakas (lt), all Iraq. Loading all dictionaries takes a few minutes and ~1 GB.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import wordfreq  # noqa: E402
from babel.languages import get_official_languages  # noqa: E402
from simplemma.strategies.dictionaries.dictionary_factory import (  # noqa: E402
    _load_dictionary_from_disk,
)

from processors.lexicon import (  # noqa: E402
    _add_brands,
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
WORD_ZIPF = 3.0
WORD_MARGIN = 1.5
# simplemma language -> wordfreq's (as in make_brands.py).
_WORDFREQ = {"hbs": "sh", "nn": "nb"}
# simplemma's dictionaries -> the CLDR language codes they stand for.
_CLDR = {"hbs": ("hr", "sr", "bs", "sr_Latn", "bs_Cyrl"), "nb": ("nb", "no"), "nn": ("nn", "no")}


def _languages(countries: tuple[str, ...]) -> set[str]:
    """The simplemma dictionaries for the official languages of ``countries`` (all if none)."""
    if not countries:
        return set(LANGUAGES)
    spoken = {lang for c in countries for lang in get_official_languages(c, de_facto=True)}
    return {lang for lang in LANGUAGES if spoken.intersection(_CLDR.get(lang, (lang,)))}


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


def _zipf(keys: set[str]) -> dict[str, float]:
    """The highest wordfreq Zipf of each folded key in any of the languages (absent: 0)."""
    best: dict[str, float] = {}
    available = wordfreq.available_languages()
    for language in {_WORDFREQ.get(lang, lang) for lang in LANGUAGES} & set(available):
        for word, freq in wordfreq.get_frequency_dict(language).items():
            key = fold(word)
            if key in keys:
                best[key] = max(best.get(key, 0.0), wordfreq.freq_to_zipf(freq))
    return best


def main() -> None:
    builder = _Builder()
    _add_places(builder)
    tables = _add_shops(builder, _read_lexicon_file(None))
    _add_brands(builder, tables)
    # What each one-word name means; a form is kept when all its lemmas mean the same.
    meaning = {
        key: frozenset((e.kind, e.value) for e in entries if e.case != "exact")
        for key, entries in builder.ngrams.items()
        if " " not in key
    }
    names = {key for key, things in meaning.items() if things}
    # Analogy only for shop and brand names: dictionaries list most towns and countries, and
    # guessing their forms too made more forms ambiguous than it found (measured on the UD set).
    shop_languages: dict[str, set[str]] = {}
    for key in sorted(names):
        for kind, value in meaning[key]:
            if kind == "shop":
                shop = tables["shops"].get(value)
                countries = shop.countries if shop else ()
            elif kind == "brand":
                countries = tables["brand_countries"].get(value, ())
            else:
                continue
            shop_languages.setdefault(key, set()).update(_languages(countries))
    # Names that are only chains or brands: their dictionary forms count only in the
    # languages of their countries, like the forms made by analogy.
    shop_only = {
        key for key in shop_languages if all(kind in ("shop", "brand") for kind, _ in meaning[key])
    }
    # A chain's names as written (casefolded, accents kept), to match dictionary lemmas on.
    written = {key: {e.surface.casefold() for e in builder.ngrams[key]} for key in shop_only}
    taken = set(builder.ngrams)
    forms: dict[str, set[str]] = {}
    for language in LANGUAGES:
        table = _load_dictionary_from_disk(language)
        n = 0
        for raw_form, raw_lemma in table.items():
            name = fold(raw_lemma.decode("utf-8"))
            if name not in names:
                continue
            if name in shop_only and (
                language not in shop_languages[name]
                or raw_lemma.decode("utf-8").casefold() not in written[name]
            ):
                # Slovak "spor" (dispute) is no form of the chain Spar; Swedish "låda" (box)
                # folds to "lada" but is not the chain Lada.
                continue
            form = fold(raw_form.decode("utf-8"))
            if form == name or len(form) < MIN_FORM or form in taken or " " in form:
                continue
            forms.setdefault(form, set()).add(name)
            n += 1
        known = {fold(f.decode("utf-8")) for f in table}
        paradigms = _paradigms(table)
        m = 0
        for name, languages in shop_languages.items():
            if language not in languages or len(name) < MIN_NAME or not name.isalpha():
                continue
            for ending in paradigms.get(name[-ANALOGY_SUFFIX:], ()):
                form = fold(name + ending)
                if form in taken or form in known:
                    continue
                forms.setdefault(form, set()).add(name)
                m += 1
        print(f"{language}: {n} forms from the dictionary, {m} by analogy", flush=True)
    kept = {form: v for form, v in forms.items() if len({meaning[n] for n in v}) == 1}
    zipf = _zipf(set(kept) | {n for v in kept.values() for n in v})
    words = {
        form
        for form, v in kept.items()
        if zipf.get(form, 0.0) >= WORD_ZIPF
        and zipf.get(form, 0.0) >= max(zipf.get(n, 0.0) for n in v) + WORD_MARGIN
    }
    print(f"{len(forms) - len(kept)} forms of two meanings, {len(words)} common words dropped")
    lines = sorted(f"{form}\t{min(v)}" for form, v in kept.items() if form not in words)
    OUT.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode("utf-8"), mtime=0))
    print(f"{len(lines)} forms of {len({ln.split(chr(9))[1] for ln in lines})} names -> {OUT}")


if __name__ == "__main__":
    main()
