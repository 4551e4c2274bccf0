"""Generate processors/data/false_friends.tsv: common words of a language that the lexicon reads
as some other language's name for a place, shop or brand.

Run by hand when the lexicon, its inflection table or the word lists change (never at build or
at run time):

    .venv/bin/python scripts/make_false_friends.py [FREQUENCYWORDS_GIT_DIR]

Latvian "viena" (one) is Spanish for Vienna, Croatian "samo" (only) and English "same" name
Samoa ("Same picture, a friend sent it"), "Since" is a form of China, German "Kino" and "Sinn"
are too. processors/evidence.py counts such a word only when it is written capitalised inside a
sentence, and never in German or Luxembourgish, which capitalise every noun.

A word is listed for language L when
- it is common in L: Zipf frequency >= ``ZIPF_MIN`` in wordfreq's list for L (PyPI ``wordfreq``,
  data CC BY-SA 4.0; Croatian through its Serbo-Croatian list, Nynorsk through Bokmål) or, for
  Estonian, which wordfreq lacks, in the FrequencyWords OpenSubtitles 2018 list (hermitdave/
  FrequencyWords on GitHub, CC BY-SA 4.0; pass its git directory);
- the lexicon reads it as a name, an alias or an inflected form (not as a listed stem: country
  adjectives count by design); and
- it is not L's own name for that thing: not L's CLDR name of the country (or a form of it),
  not L's CLDR name of the city, and no city, shop or brand of a country where L is an official
  language (German "Netto" and "Müller" stay shops in German tips); and
- the lexicon takes it only capitalised (inflected forms from the dictionaries, names that are
  words somewhere, own brands), or it is among L's commonest words (Zipf >= ``ANY_CASE_ZIPF``:
  Croatian "samo", Latvian "viena"). Other names matched in any case are left alone: a word
  list counts how often a place is mentioned as well as how often a word is used ("london" is
  common in Polish because London is).
An inflected form is L's own when its lemma in the inflection table is L's CLDR name
("Deutschlands", "Norges") or L's simplemma dictionary lemmatises it to a name of the same
thing (Finnish "Madridissa"); the official-language rule applies to names only (English is an
official language of Samoa, and "same" is still no English form of it).
Irish, Luxembourgish, Maltese and Scottish Gaelic have no list in either source: nothing is
listed for them.
"""

from __future__ import annotations

import gzip
import math
import statistics
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import simplemma  # noqa: E402
import wordfreq  # noqa: E402
from babel import Locale  # noqa: E402
from babel.languages import get_official_languages  # noqa: E402

from processors.lexicon import Entry, Lexicon, fold, load_lexicon  # noqa: E402

OUT = ROOT / "processors" / "data" / "false_friends.tsv"
ZIPF_MIN = 3.5
ANY_CASE_ZIPF = 5.0
# Languages whose word lists say how often a country is talked about, and how much commoner
# than that, in Zipf, a tip language's name of it must be to be read as another word first.
REFERENCE = ("en", "fr", "de", "es", "it")
OTHER_WORD_MARGIN = 1.4
TOP_WORDS = 60_000
# The tip languages the language stage reports, with the word list each one reads.
WORDFREQ = {
    "bg": "bg", "cs": "cs", "da": "da", "de": "de", "el": "el", "en": "en", "es": "es",
    "fi": "fi", "fr": "fr", "hr": "sh", "hu": "hu", "is": "is", "it": "it", "lt": "lt",
    "lv": "lv", "mk": "mk", "nb": "nb", "nn": "nb", "no": "nb", "nl": "nl", "pl": "pl",
    "pt": "pt", "ro": "ro", "ru": "ru", "sk": "sk", "sl": "sl", "sv": "sv", "uk": "uk",
    "tr": "tr", "ar": "ar",
}  # fmt: skip
FREQUENCYWORDS = {"et": "content/2018/et/et_50k.txt"}
# simplemma's dictionary for a tip language whose code it does not use.
SIMPLEMMA = {"hr": "hbs", "no": "nb"}
# babel's locale for a tip language whose code it does not know as such.
LOCALE = {"no": "nb"}


def _wordfreq(language: str) -> dict[str, float]:
    words = wordfreq.top_n_list(language, TOP_WORDS)
    zipf = {w: wordfreq.zipf_frequency(w, language) for w in words}
    return {w: z for w, z in zipf.items() if z >= ZIPF_MIN}


def _frequencywords(git_dir: str, path: str) -> dict[str, float]:
    text = subprocess.run(
        ["git", "--git-dir", git_dir, "show", f"HEAD:{path}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    counts = [(w, int(c)) for w, c in (line.split(" ") for line in text.splitlines() if line)]
    # The list is the top 50k of a corpus whose size it does not give; its counts are read as
    # Zipf against their own sum, which overstates every word a little (the tail is missing).
    total = sum(c for _, c in counts)
    return {
        w: z for w, c in counts if (z := math.log10(c / total * 1e9)) >= ZIPF_MIN and w.isalpha()
    }


def _inflections() -> dict[str, str]:
    data = (ROOT / "processors" / "data" / "inflections.tsv.gz").read_bytes()
    lemma = {}
    for line in gzip.decompress(data).decode("utf-8").splitlines():
        form, name, _ = line.split("\t")
        lemma[form] = name
    return lemma


def _own_names(language: str) -> tuple[set[str], set[str]]:
    """(folded CLDR country names of ``language``, folded CLDR city names of ``language``)."""
    locale = Locale.parse(LOCALE.get(language, language))
    countries = {fold(n) for code, n in locale.territories.items() if len(code) == 2}
    cities = {fold(z["city"]) for z in locale.time_zones.values() if "city" in z}
    return countries, cities


def _speaks(language: str, countries: Iterable[str]) -> bool:
    code = LOCALE.get(language, language)
    return any(code in get_official_languages(c) for c in countries)


def _is_form(token: str, entries: tuple[Entry, ...]) -> bool:
    """Whether ``token`` is in the lexicon only as an inflected form of the entries' names."""
    return all(fold(e.surface) != token for e in entries)


def _lemma(language: str, word: str) -> str | None:
    """``word``'s lemma in L's simplemma dictionary (None: simplemma has none for L)."""
    try:
        return str(simplemma.lemmatize(word, lang=SIMPLEMMA.get(language, language)))
    except ValueError:
        return None


def _own_form(language: str, word: str, entry: Entry, lexicon: Lexicon) -> bool:
    """Whether L's own dictionary reads ``word`` as a form of the entry's thing: Finnish
    "Madridissa" (in Madrid) is Finnish, English "same" is no form of Samoa."""
    lemma = _lemma(language, word)
    if lemma is None or fold(lemma) == fold(word):  # not a form in L's dictionary
        return False
    found = lexicon.ngrams.get(fold(lemma), ())
    return any(e.kind == entry.kind and e.value == entry.value for e in found)


def _other_word(language: str, word: str, entry: Entry, lexicon: Lexicon, zipf: float) -> bool:
    """Whether ``word``, L's name of a country, is first of all another word of L: among L's
    commonest words, far commoner in L than the country's name is in the reference languages
    (``OTHER_WORD_MARGIN`` Zipf: so it is not the country that makes it common), and a form
    of another of L's commonest words in L's dictionary. Russian "того" is a form of "тот"
    (that), Finnish "oman" of "oma" (own), Slovak "mali" of "mať" (to have)."""
    if zipf < ANY_CASE_ZIPF:
        return False
    usual = statistics.median(
        wordfreq.zipf_frequency(Locale.parse(r).territories.get(entry.value, ""), r)
        for r in REFERENCE
        if r != language
    )
    if zipf - usual < OTHER_WORD_MARGIN:
        return False
    lemma = _lemma(language, word)
    if lemma is None:
        return False
    listed = WORDFREQ.get(language)  # Estonian's list has no lemmas to look up: not asked
    if (
        fold(lemma) == fold(word)
        or not listed
        or wordfreq.zipf_frequency(lemma, listed) < ANY_CASE_ZIPF
    ):
        return False  # the word itself, or a rare lemma: Macedonian "косово" is no form of "кос"
    found = lexicon.ngrams.get(fold(lemma), ())
    return not any(e.kind == entry.kind and e.value == entry.value for e in found)


def _own(
    language: str,
    token: str,
    entry: Entry,
    lexicon: Lexicon,
    *,
    names: tuple[set[str], set[str]],
    lemma: dict[str, str],
    word_as_written: str,
    zipf: float,
) -> bool:
    own_countries, own_cities = names
    word = {token, lemma.get(token, token)}
    if fold(entry.surface) != token:
        # An inflected form is L's own if it is a form of L's own name ("Deutschlands",
        # "Norges") or L's dictionary says so ("Madridissa"); the official-language rule is
        # not enough: English is an official language of Samoa, and "same" is no form of it.
        own_name = own_countries if entry.kind == "country" else own_cities
        return bool(word & own_name) or _own_form(language, word_as_written, entry, lexicon)
    if entry.kind == "country" and _other_word(language, word_as_written, entry, lexicon, zipf):
        # L's own name that is first of all another of L's commonest words: Russian and
        # Ukrainian "того" (of that) is their name of Togo, Finnish "oman" (own) of Oman.
        return False
    if entry.kind == "country":
        return bool(word & own_countries) or _speaks(language, (entry.value,))
    if entry.kind == "city":
        return bool(word & own_cities) or _speaks(language, lexicon.reach("city", entry.value))
    # A chain named like one of L's commonest words (French "Parfois", sometimes) is written
    # capitalised inside a sentence when meant, even where it trades.
    return zipf < ANY_CASE_ZIPF and _speaks(language, lexicon.reach(entry.kind, entry.value))


def _named(lexicon: Lexicon, token: str, language: str) -> tuple[Entry, ...]:
    """What the lexicon reads ``token`` as by name, alias or form (stems left out)."""
    return lexicon.ngrams.get(token, ()) or lexicon.forms.get(language, {}).get(token, ())


def main() -> None:
    lexicon = load_lexicon(None)
    lemma = _inflections()
    git_dir = sys.argv[1] if len(sys.argv) > 1 else None
    lines = []
    for language in sorted({*WORDFREQ, *FREQUENCYWORDS}):
        if language in FREQUENCYWORDS:
            if git_dir is None:
                sys.exit(f"{language} needs the FrequencyWords git directory as argument")
            common = _frequencywords(git_dir, FREQUENCYWORDS[language])
        else:
            common = _wordfreq(WORDFREQ[language])
        names = _own_names(language)
        friends: dict[str, str] = {}
        for word in common:
            token = fold(word)
            if token in friends:
                continue
            entries = _named(lexicon, token, language)
            if not entries or any(
                _own(
                    language,
                    token,
                    e,
                    lexicon,
                    names=names,
                    lemma=lemma,
                    word_as_written=word,
                    zipf=common[word],
                )
                for e in entries
            ):
                continue
            # A name matched in any case only when it is among L's commonest words: word
            # lists count how often a place is mentioned as well as how often a word is used
            # ("london" is common in Polish because London is; "samo" is Croatian for only).
            if any(e.case != "capital" for e in entries) and common[word] < ANY_CASE_ZIPF:
                continue
            shape = "form" if _is_form(token, entries) else "name"
            friends[token] = f"{shape}\t" + ",".join(sorted({e.value for e in entries}))
        for token, means in sorted(friends.items()):
            lines.append(f"{language}\t{token}\t{means}")
        print(f"{language}: {len(friends)} false friends", flush=True)
    header = "# language\tword (folded)\tform or name\twhat the lexicon would read it as\n"
    OUT.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines)} lines -> {OUT}")


if __name__ == "__main__":
    main()
