"""lexicon: the gazetteer and shop/brand lexicon behind evidence extraction, built once per process.

A ``Lexicon`` is a casefolded, accent-folded lookup from token n-grams to canonical entries:

    countries   CLDR territory names in the 28 languages (babel), plus ``data/places.toml``'s
                colloquial names and adjective stems ("polnisch", "polsk", "польск")
    cities      ``data/places.toml`` with CLDR's exemplar-city names for their time zones
    shops       ``data/lexicon.toml`` (or the operator's file): chains, own brands, web domains
    brands      the same file

Matching a tip costs a few dict lookups per token (exact n-gram, then inflected-stem), never a
scan over the names, so the cost does not grow with the size of the lexicon.
"""

from __future__ import annotations

import logging
import re
import tomllib
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, NamedTuple

from babel import Locale

from tipline.errors import ConfigurationError

log = logging.getLogger(__name__)

# The 24 official EU languages plus Russian, Ukrainian, Turkish and Arabic.
LANGUAGES: tuple[str, ...] = (
    "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr", "hu", "it",
    "lt", "lv", "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv", "ru", "uk", "tr", "ar",
)  # fmt: skip

Kind = Literal["country", "city", "shop", "brand"]
Case = Literal["any", "capital", "exact"]

# Letters NFKD does not decompose but people drop when typing without accents ("Lodz", "Koln").
_FOLD_EXTRA = str.maketrans(
    {"ł": "l", "ø": "o", "đ": "d", "ħ": "h", "æ": "ae", "œ": "oe", "ı": "i", "ß": "ss", "þ": "th"}
)
_VOWELS = frozenset("aeiouyąęéèáàíóúůěøöüäåıаеиоуыэюяєіїαεηιουω")
# Languages that decline names ("w Polsce", "v Praze", "Lengyelországban"): only their CLDR names
# get inflected-form matching; elsewhere a stem mostly finds other words ("Servië" -> "serviette").
_INFLECTING = frozenset(
    {"bg", "cs", "et", "fi", "hr", "hu", "lt", "lv", "pl", "ro", "ru", "sk", "sl", "tr", "uk", "el"}
)
# Names this short are too often words ("Omã" folds to "oma"): matched only when capitalised.
_SHORT_NAME = 3
# Stems shorter than this match too many ordinary words ("chil" -> "child").
_MIN_AUTO_STEM = 5
_MIN_LISTED_STEM = 4
MAX_SUFFIX = 4
# Only letters, digits and "&" inside a word ("H&M", "M&S"); apostrophes split ("Lidl's").
TOKEN = re.compile(r"[^\W_]+(?:&[^\W_]+)*")
# CLDR region codes that are not countries (EU, UN, "Outlying Oceania", ...).
_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "ZZ", "QO"})


@lru_cache(maxsize=1 << 16)
def fold(token: str) -> str:
    """Casefold and strip accents, so "Łódź", "lodz" and "ŁÓDŹ" are one key."""
    folded = token.casefold()
    if folded.isascii():
        return folded
    decomposed = unicodedata.normalize("NFKD", folded.translate(_FOLD_EXTRA))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def tokens(text: str) -> Iterator[re.Match[str]]:
    """Word tokens of ``text`` as matches (the caller needs their positions and original case)."""
    return TOKEN.finditer(text)


class Entry(NamedTuple):
    """One canonical thing a name can mean."""

    kind: Kind
    value: str  # ISO code for countries, canonical name otherwise
    case: Case
    surface: str  # the alias as written, for ``case="exact"``


@dataclass(frozen=True)
class Shop:
    """A chain from the lexicon file."""

    name: str
    countries: tuple[str, ...]
    domains: tuple[str, ...]
    own_brands: tuple[str, ...]


@dataclass(frozen=True)
class Lexicon:
    """Lookup tables from folded n-grams and stems to entries. Build with ``load_lexicon``."""

    ngrams: dict[str, tuple[Entry, ...]] = field(default_factory=dict)
    stems: dict[str, tuple[Entry, ...]] = field(default_factory=dict)
    # First token of multi-token names -> their lengths, longest first: an n-gram is only tried
    # where a name can start, and only at lengths some name has.
    first_tokens: dict[str, tuple[int, ...]] = field(default_factory=dict)
    shops: dict[str, Shop] = field(default_factory=dict)
    brand_owner: dict[str, str] = field(default_factory=dict)  # own brand -> shop
    brand_countries: dict[str, tuple[str, ...]] = field(default_factory=dict)
    domains: dict[str, str] = field(default_factory=dict)  # web-site base name -> shop
    city_country: dict[str, str] = field(default_factory=dict)  # canonical city -> ISO code

    def lookup(self, folded: Sequence[str], start: int) -> tuple[int, tuple[Entry, ...]]:
        """Longest name starting at ``folded[start]``: (tokens used, entries), or (0, ())."""
        for n in self.first_tokens.get(folded[start], ()):
            if start + n <= len(folded):
                hit = self.ngrams.get(" ".join(folded[start : start + n]))
                if hit:
                    return n, hit
        token = folded[start]
        hit = self.ngrams.get(token)
        if hit:
            return 1, hit
        # Inflected forms: the token is a known stem plus a short ending ("polskie", "Rossmanna").
        shortest = max(_MIN_LISTED_STEM, len(token) - MAX_SUFFIX)
        for end in range(len(token), shortest - 1, -1):
            hit = self.stems.get(token[:end])
            if hit:
                return 1, hit
        return 0, ()


class _Builder:
    """Collects names, then freezes them into a ``Lexicon``."""

    def __init__(self) -> None:
        self.ngrams: defaultdict[str, dict[Entry, None]] = defaultdict(dict)
        self.stems: defaultdict[str, dict[Entry, None]] = defaultdict(dict)
        self.never: set[str] = set()

    def add(
        self, kind: Kind, value: str, alias: str, case: Case = "any", *, inflects: bool = True
    ) -> None:
        words = [m.group() for m in tokens(alias)]
        if not words:
            return
        key = " ".join(fold(w) for w in words)
        if key in self.never:
            return
        if case == "any" and len(key) <= _SHORT_NAME:
            case = "capital"
        entry = Entry(kind, value, case, " ".join(words))
        self.ngrams[key][entry] = None
        if inflects and len(words) == 1 and case != "exact" and key.isalpha():
            stem = key[:-1] if key[-1] in _VOWELS else key
            if len(stem) >= _MIN_AUTO_STEM:
                self.stems[stem][entry] = None

    def add_stem(self, kind: Kind, value: str, stem: str) -> None:
        key = fold(stem)
        if len(key) >= _MIN_LISTED_STEM:
            self.stems[key][Entry(kind, value, "any", stem)] = None

    def build(self, **tables: Any) -> Lexicon:
        ngrams = {k: _unambiguous(v) for k, v in self.ngrams.items()}
        stems = {k: _unambiguous(v) for k, v in self.stems.items()}
        ngrams = {k: v for k, v in ngrams.items() if v}
        stems = {k: v for k, v in stems.items() if v}
        lengths: defaultdict[str, set[int]] = defaultdict(set)
        for key in ngrams:
            words = key.split(" ")
            if len(words) > 1:
                lengths[words[0]].add(len(words))
        return Lexicon(
            ngrams=ngrams,
            stems=stems,
            first_tokens={k: tuple(sorted(v, reverse=True)) for k, v in lengths.items()},
            **tables,
        )


def _unambiguous(entries: Mapping[Entry, None]) -> tuple[Entry, ...]:
    """Drop a key whose countries disagree ("Kongo" is two countries): a wrong lead is worse."""
    found = tuple(entries)
    countries = {e.value for e in found if e.kind == "country"}
    if len(countries) > 1:
        found = tuple(e for e in found if e.kind != "country")
    return found


def _strip_parenthetical(name: str) -> str:
    return re.sub(r"\s*\(.*?\)\s*", " ", name).strip()


# Irish and Maltese names carry the article ("an Ghearmáin", "il-Ġermanja"), which merges with
# prepositions in running text ("fil-Ġermanja", "sa Ghearmáin"): index the bare noun too.
_ARTICLE_PREFIX = re.compile(r"^(?:an t|an |na |i[lċdnrstxżz]-|l-)", re.IGNORECASE)


def _name_variants(name: str) -> set[str]:
    bare = _strip_parenthetical(name)
    return {name, bare, _ARTICLE_PREFIX.sub("", bare)}


@cache
def _places() -> dict[str, Any]:
    text = resources.files("processors.data").joinpath("places.toml").read_text("utf-8")
    return tomllib.loads(text)


def _add_places(builder: _Builder) -> dict[str, Any]:
    """Countries from CLDR in every language, then places.toml's aliases, stems and cities."""
    places = _places()
    countries = places["countries"]
    capital_only = {fold(n) for n in countries["capital_only"]}
    builder.never.update(fold(n) for n in countries["never"])

    def case_for(name: str) -> Case:
        return (
            "capital" if " ".join(fold(m.group()) for m in tokens(name)) in capital_only else "any"
        )

    for language in LANGUAGES:
        locale = Locale.parse(language)
        for code, name in locale.territories.items():
            if len(code) != 2 or not code.isalpha() or code in _NOT_COUNTRIES:
                continue
            for variant in _name_variants(name):
                builder.add(
                    "country", code, variant, case_for(variant), inflects=language in _INFLECTING
                )
    for code, aliases in countries["aliases"].items():
        for alias in aliases:
            # Upper-case aliases are abbreviations ("UK", "PRC"): only as written.
            case: Case = "exact" if alias.replace(".", "").isupper() else case_for(alias)
            builder.add("country", code, alias, case)
    for code, stems in countries["stems"].items():
        for stem in stems:
            builder.add_stem("country", code, stem)

    locales = [Locale.parse(language) for language in LANGUAGES]
    for city in places["city"]:
        city_case: Case = "capital" if city.get("capital_only") else "any"
        names = {city["name"], *city["aliases"]}
        if tz := city.get("tz"):
            # CLDR's exemplar city is the city's name in that language ("Warschau", "Varsovie").
            for locale in locales:
                exemplar = locale.time_zones.get(tz, {}).get("city")
                if exemplar:
                    names.add(exemplar)
        for name in names:
            builder.add("city", city["name"], name, city_case)
    return {"city_country": {city["name"]: city["country"] for city in places["city"]}}


def _add_shops(builder: _Builder, data: Mapping[str, Any]) -> dict[str, Any]:
    """Register shop and brand names; return the side tables the extractor needs."""
    shops: dict[str, Shop] = {}
    brand_owner: dict[str, str] = {}
    brand_countries: dict[str, tuple[str, ...]] = {}
    domains: dict[str, str] = {}
    for raw in data.get("shop", []):
        name = raw["name"]
        case: Case = raw.get("case", "any")
        shop = Shop(
            name=name,
            countries=tuple(raw.get("countries", ())),
            domains=tuple(d.casefold() for d in raw.get("domains", ())),
            own_brands=tuple(raw.get("own_brands", ())),
        )
        shops[name] = shop
        for alias in {name, *raw.get("aliases", ())}:
            builder.add("shop", name, alias, case)
        for domain in shop.domains:
            domains[domain] = name
        for brand in shop.own_brands:
            # Own-brand names are often ordinary words ("Crane", "Atmosphere"): capitalised only.
            builder.add("brand", brand, brand, "capital")
            brand_owner[brand] = name
            brand_countries[brand] = shop.countries
    for raw in data.get("brand", []):
        name = raw["name"]
        case = raw.get("case", "any")
        for alias in {name, *raw.get("aliases", ())}:
            builder.add("brand", name, alias, case)
        brand_countries[name] = tuple(raw.get("countries", ()))
    return {
        "shops": shops,
        "brand_owner": brand_owner,
        "brand_countries": brand_countries,
        "domains": domains,
    }


def _read_lexicon_file(path: Path | None) -> dict[str, Any]:
    try:
        if path is None:
            text = resources.files("processors.data").joinpath("lexicon.toml").read_text("utf-8")
        else:
            text = path.read_text("utf-8")
        return tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(
            f"cannot read the shop lexicon {path or 'lexicon.toml'}: {exc}"
        ) from exc


def _validate(data: Mapping[str, Any]) -> None:
    for section in ("shop", "brand"):
        for item in data.get(section, []):
            if not isinstance(item.get("name"), str) or not item["name"].strip():
                raise ConfigurationError(f"shop lexicon: every [[{section}]] needs a name")
            if item.get("case", "any") not in ("any", "capital", "exact"):
                raise ConfigurationError(f"shop lexicon: bad case for {item['name']!r}")


@cache
def load_lexicon(path: Path | None = None) -> Lexicon:
    """The lexicon for ``path`` (None: the packaged ``data/lexicon.toml``), built once and cached.

    Raises ``ConfigurationError`` when the file is missing or malformed, so a bad setting stops
    the worker at start-up instead of failing every tip.
    """
    data = _read_lexicon_file(path)
    _validate(data)
    builder = _Builder()
    places = _add_places(builder)
    tables = _add_shops(builder, data)
    built = builder.build(**places, **tables)
    log.info(
        "lexicon built: %d names, %d stems, %d shops", len(built.ngrams), len(built.stems),
        len(built.shops),
    )  # fmt: skip
    return built


def fold_all(words: Iterable[str]) -> list[str]:
    """``fold`` every word of ``words`` (helper for word lists)."""
    return [fold(w) for w in words]
