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
from babel import Locale  # noqa: E402
from babel.languages import get_official_languages  # noqa: E402
from simplemma.strategies.dictionaries.dictionary_factory import (  # noqa: E402
    _load_dictionary_from_disk,
)

from processors.lexicon import (  # noqa: E402
    _add_brands,
    _add_places,
    _add_shops,
    _Builder,
    _places,
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
MAX_STRIP = 2
WORD_ZIPF = 3.0
# Languages whose case endings join a name's oblique stem (Estonian: Pariis -> Pariisi- ->
# Pariisis, Pariisist, Pariisisse, Pariisiga): forms made from the stem and the endings the
# dictionary's proper nouns take (``_stem_forms``). Chosen on the UD dev split.
STEM_LANGUAGES = ("et", "lv")
# A proper noun with this many forms in the dictionary shows its paradigm whole.
MIN_PARADIGM = 8
# An ending counts when at least this share of the proper nouns of a final letter take it.
ENDING_SHARE = 0.3
WORD_MARGIN = 1.5
# simplemma language -> wordfreq's (as in make_brands.py).
_WORDFREQ = {"hbs": "sh", "nn": "nb"}
# simplemma's dictionaries -> the tip language codes (the language stage's) they serve.
_SITE = {"hbs": ("hr", "sr", "bs"), "nb": ("nb", "no"), "nn": ("nn", "no")}
# simplemma's dictionaries -> the CLDR locale whose names they inflect.
_LOCALE = {"hbs": "hr"}
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


def _zipf(keys: set[str]) -> dict[str, dict[str, float]]:
    """Per simplemma language: the wordfreq Zipf of each folded key (absent: 0)."""
    found: dict[str, dict[str, float]] = {}
    available = set(wordfreq.available_languages())
    for language in LANGUAGES:
        source = _WORDFREQ.get(language, language)
        if source not in available:
            continue
        best = found.setdefault(language, {})
        for word, freq in wordfreq.get_frequency_dict(source).items():
            key = fold(word)
            if key in keys:
                best[key] = max(best.get(key, 0.0), wordfreq.freq_to_zipf(freq))
    return found


def _place_rules(table: dict[bytes, bytes]) -> dict[str, tuple[tuple[str, str], ...]]:
    """Per last-``ANALOGY_SUFFIX`` letters (folded): the (strip, add) rules of the model word.

    A rule turns a lemma into one of its forms by replacing at most ``MAX_STRIP`` last letters
    with at most ``MAX_ENDING`` others (Greek εικόνα -> εικόνων, Estonian Pariis -> Pariisist).
    The model for an ending is the dictionary's word with the most such forms (a proper noun
    where two have as many: names inflect like names).
    """
    rules: dict[str, set[tuple[str, str]]] = {}
    for raw_form, raw_lemma in table.items():
        lemma, form = raw_lemma.decode("utf-8"), raw_form.decode("utf-8")
        if not lemma.isalpha() or len(lemma) < MIN_NAME + 1 or form.casefold() == lemma.casefold():
            continue
        for strip in range(MAX_STRIP + 1):
            stem = lemma[: len(lemma) - strip]
            if form.startswith(stem) and 0 < len(form) - len(stem) <= MAX_ENDING:
                rules.setdefault(lemma, set()).add((lemma[len(stem) :], form[len(stem) :]))
                break
    best: dict[str, tuple[int, bool, tuple[tuple[str, str], ...]]] = {}
    for lemma, found in rules.items():
        key = fold(lemma[-ANALOGY_SUFFIX:])
        rank = (len(found), lemma[:1].isupper(), tuple(sorted(found)))
        if rank[:2] > best.get(key, (0, False, ()))[:2]:
            best[key] = rank
    return {key: tuple((fold(a), fold(b)) for a, b in rank[2]) for key, rank in best.items()}


def _local_names(language: str, meaning: dict[str, frozenset[tuple[str, str]]]) -> set[str]:
    """One-word country and city names as CLDR writes them in ``language``, and the cities'
    names and aliases of ``places.toml`` (in whatever language they are written), folded."""
    locale = Locale.parse(_LOCALE.get(language, language))
    written = [name for code, name in locale.territories.items() if len(code) == 2]
    for city in _places()["city"]:
        written += [city["name"], *city["aliases"]]
        if tz := city.get("tz"):
            exemplar = locale.time_zones.get(tz, {}).get("city")
            if exemplar:
                written.append(exemplar)
    names = set()
    for name in written:
        key = fold(name)
        things = meaning.get(key, frozenset())
        if (
            key.isalpha()
            and len(key) >= MIN_NAME
            and things
            and all(kind in ("country", "city") for kind, _ in things)
        ):
            names.add(key)
    return names


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
    origin: dict[str, set[str]] = {}  # form -> the dictionaries that list it
    # Forms of place names made by analogy, per dictionary: matched only in that language.
    local: dict[str, dict[str, set[str]]] = {}
    known_by: dict[str, set[str]] = {}
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
            origin.setdefault(form, set()).add(language)
            n += 1
        known = {fold(f.decode("utf-8")) for f in table}
        known_by[language] = known
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
                origin.setdefault(form, set()).add(language)
                m += 1
        local[language] = _local_forms(language, table, meaning, taken, known)
        print(
            f"{language}: {n} forms from the dictionary, {m} by analogy, "
            f"{len(local[language])} of places by analogy",
            flush=True,
        )
    _write(forms, origin, local, known_by, meaning)


def _local_forms(
    language: str,
    table: dict[bytes, bytes],
    meaning: dict[str, frozenset[tuple[str, str]]],
    taken: set[str],
    known: set[str],
) -> dict[str, set[str]]:
    """Forms of ``language``'s place names made by analogy, and from their stems."""
    here = _place_forms(language, table, meaning, taken | known)
    if language in STEM_LANGUAGES:
        for form, names in _stem_forms(language, table, meaning, taken).items():
            here.setdefault(form, set()).update(names)
    return here


def _is_vowel(letter: str) -> bool:
    return fold(letter)[:1] in "aeiouy"


def _stem_of(lemma: str, forms: set[str]) -> str:
    """The oblique stem of ``lemma`` its forms show: the lemma plus a linking vowel when
    nearly every other form starts with that ("Tallinn" -> "Tallinna", "Stockholm" ->
    "Stockholmi"), else the lemma itself."""
    others = [f for f in forms if f != lemma and f.startswith(lemma)]
    best = lemma
    for form in others:
        link = form[len(lemma) :]
        if len(link) == 1 and _is_vowel(link) and not _is_vowel(lemma[-1]):
            share = sum(f.startswith(form) for f in others) / len(others)
            if share >= 0.8 and form != best:
                best = form
    return best


def _stem_rules(table: dict[bytes, bytes]) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Per final letter (folded): (linking vowel, endings) of the dictionary's proper nouns.

    The linking vowel is the one most of them with that final letter take ("" for none);
    the endings are those at least ``ENDING_SHARE`` of them add to their stem.
    """
    paradigms: dict[str, set[str]] = {}
    for raw_form, raw_lemma in table.items():
        lemma, form = raw_lemma.decode("utf-8"), raw_form.decode("utf-8")
        if lemma[:1].isupper() and lemma.isalpha() and len(lemma) >= MIN_NAME:
            paradigms.setdefault(lemma, {lemma}).add(form)
    links: dict[str, dict[str, int]] = {}
    endings: dict[str, dict[str, int]] = {}
    sizes: dict[str, int] = {}
    for lemma, forms in paradigms.items():
        if len(forms) < MIN_PARADIGM:
            continue
        stem = _stem_of(lemma, forms)
        key = fold(lemma[-1])
        sizes[key] = sizes.get(key, 0) + 1
        link = fold(stem[len(lemma) :])
        links.setdefault(key, {})[link] = links.setdefault(key, {}).get(link, 0) + 1
        for ending in {fold(f[len(stem) :]) for f in forms if f.startswith(stem) and f != stem}:
            if len(ending) <= MAX_ENDING:
                endings.setdefault(key, {})[ending] = endings.setdefault(key, {}).get(ending, 0) + 1
    rules = {}
    for key, n in sizes.items():
        link = max(links[key].items(), key=lambda item: (item[1], item[0]))[0]
        kept = tuple(sorted(e for e, c in endings.get(key, {}).items() if c >= ENDING_SHARE * n))
        rules[key] = (link, kept)
    return rules


def _stem_forms(
    language: str,
    table: dict[bytes, bytes],
    meaning: dict[str, frozenset[tuple[str, str]]],
    skip: set[str],
) -> dict[str, set[str]]:
    """Forms of ``language``'s own place names from their oblique stem and the case endings
    of the dictionary's proper nouns with the same final letter (form -> names).

    A name's own dictionary forms give its stem where they show one ("Pariisi", "Tallinna");
    else the linking vowel most proper nouns with its final letter take ("Amsterdam" ->
    "Amsterdami"). Forms the dictionary has as forms of another word, and names, are skipped.
    """
    rules = _stem_rules(table)
    own: dict[str, set[str]] = {}
    for raw_form, raw_lemma in table.items():
        key = fold(raw_lemma.decode("utf-8"))
        own.setdefault(key, set()).add(fold(raw_form.decode("utf-8")))
    other = {fold(f.decode("utf-8")) for f, lemma in table.items()}
    here: dict[str, set[str]] = {}
    for name in _local_names(language, meaning):
        rule = rules.get(name[-1])
        if rule is None:
            continue
        link, endings = rule
        forms = own.get(name, set()) | {name}
        stem = _stem_of(name, forms)
        if stem == name and not _is_vowel(name[-1]):
            stem = name + link
        for ending in ("", *endings):
            form = stem + ending
            if form == name or len(form) < MIN_FORM or form in skip:
                continue
            if form in other and form not in own.get(name, set()):
                continue  # the dictionary knows it as a form of some other word
            here.setdefault(form, set()).add(name)
    return here


def _place_forms(
    language: str,
    table: dict[bytes, bytes],
    meaning: dict[str, frozenset[tuple[str, str]]],
    skip: set[str],
) -> dict[str, set[str]]:
    """Forms of ``language``'s own place names made by analogy (form -> names), none in ``skip``."""
    rules = _place_rules(table)
    here: dict[str, set[str]] = {}
    for name in _local_names(language, meaning):
        for strip, add in rules.get(name[-ANALOGY_SUFFIX:], ()):
            if strip and not name.endswith(strip):
                continue
            form = name[: len(name) - len(strip)] + add
            if form == name or len(form) < MIN_FORM or form in skip:
                continue
            here.setdefault(form, set()).add(name)
    return here


def _write(
    forms: dict[str, set[str]],
    origin: dict[str, set[str]],
    local: dict[str, dict[str, set[str]]],
    known_by: dict[str, set[str]],
    meaning: dict[str, frozenset[tuple[str, str]]],
) -> None:
    """Drop ambiguous forms and common words, then write the table."""
    kept = {form: v for form, v in forms.items() if len({meaning[n] for n in v}) == 1}
    keys = set(kept) | {n for v in kept.values() for n in v}
    # The local forms and their names too: a name missing here would count as Zipf 0, and
    # every form of it as a common word (Latvian "tallinas", Zipf 4.4, of "tallina", 3.9).
    keys |= {f for here in local.values() for f in here}
    keys |= {n for here in local.values() for v in here.values() for n in v}
    zipf = _zipf(keys)

    def top(key: str) -> float:
        return max((z.get(key, 0.0) for z in zipf.values()), default=0.0)

    def common(form: str, names: set[str], language: str | None = None) -> bool:
        z = top(form) if language is None else zipf.get(language, {}).get(form, 0.0)
        return z >= WORD_ZIPF and z >= max(top(n) for n in names) + WORD_MARGIN

    words = {form for form, v in kept.items() if common(form, v)}
    print(f"{len(forms) - len(kept)} forms of two meanings, {len(words)} common words dropped")
    lines = [f"{form}\t{min(v)}\t*" for form, v in kept.items() if form not in words]
    # A dictionary form that is a common word only elsewhere ("viini": Estonian for Vienna's
    # genitive, Finnish for wine) still counts in the languages whose dictionaries list it.
    regional: dict[str, set[str]] = {}
    for form in words:
        for language in origin[form]:
            if not common(form, kept[form], language):
                regional.setdefault(form, set()).update(_SITE.get(language, (language,)))
    everywhere = {form for form in kept if form not in words}
    for language, here in local.items():
        for form, v in here.items():
            if len({meaning[n] for n in v}) != 1 or common(form, v, language):
                continue
            if form in everywhere or (form in kept and meaning[min(kept[form])] != meaning[min(v)]):
                # Counts in every tip already, or means another place elsewhere. A form that
                # counts in another language's tips counts here too when it means the same
                # place (Latvian and Spanish "Tallinas").
                continue
            if form in known_by[language]:
                continue
            regional.setdefault(form, set()).update(_SITE.get(language, (language,)))
            kept.setdefault(form, v)
    lines += [f"{form}\t{min(kept[form])}\t{' '.join(sorted(ls))}" for form, ls in regional.items()]
    lines.sort()
    OUT.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode("utf-8"), mtime=0))
    print(f"{len(lines)} forms ({len(regional)} for some languages only) -> {OUT}")


if __name__ == "__main__":
    main()
