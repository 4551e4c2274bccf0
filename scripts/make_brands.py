"""Generate processors/data/brands.tsv.gz: shop chains and brands with their countries, from NSI.

Run by hand when a new Name Suggestion Index is published (never at build or at run time):

    npm pack name-suggestion-index@8.0.20260918 @rapideditor/country-coder@5.6.1
    mkdir nsi cc && tar xzf name-suggestion-index-*.tgz -C nsi \
        && tar xzf rapideditor-country-coder-*.tgz -C cc
    .venv/bin/python scripts/make_brands.py nsi/package cc/package

Sources (see processors/data/README.md): the OpenStreetMap Name Suggestion Index (npm package
``name-suggestion-index``, BSD-3-Clause; names and tags curated by OpenStreetMap contributors,
brand ids from Wikidata) and country-coder's ``borders.json`` (npm ``@rapideditor/country-coder``,
ISC; the regions NSI's ``locationSet`` uses: "001" world, "150" Europe, "gb-eng", ...).

Kept: ``brands/shop/*`` and the chains that sell goods under ``brands/amenity`` (fast food,
cafés, pharmacies, ice cream: kind "shop"; vending-machine brands such as Coca-Cola: kind
"brand"). One entry per name, with every name the index
gives (``name``, ``brand``, their ``:xx`` language variants and ``matchNames``) as aliases.
Entries are keyed by their folded name (``brand:en``, else ``brand``): two chains of one name
are one entry sold in both's countries, since a tip naming it cannot tell them apart.

Dropped, so that an ordinary word never becomes a lead: an alias that is a common word in the
lemma dictionaries simplemma ships for the public site's languages ("Action", "Puma", "Магнит" =
magnet; "Magnit" stays; see ``_ordinariness``), names NSI itself calls generic,
aliases of three letters or fewer unless written in capitals (then matched only exactly as
written: "KFC"), aliases two entries share, and, for chains in fewer than ``MANY_COUNTRIES``
countries, names and words frequent in English crowd text (``_kept_aliases``). Names made
only of dictionary words ("Burger King", "Adidas") match only when capitalised.

Output, one entry per line, ``kind<TAB>name<TAB>countries<TAB>alias|alias|...``; an alias
marked ``^`` matches only capitalised, ``=`` only exactly as written.
``countries`` is a space-separated list of ISO 3166-1 alpha-2 codes, or, for entries sold in
most of the world, ``001`` followed by the codes excluded (``001 -BG -RS``); the first line,
``#world<TAB>codes``, lists what ``001`` stands for.
"""

from __future__ import annotations

import gzip
import json
import re
import sys
import unicodedata
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import wordfreq  # noqa: E402
from simplemma.strategies.dictionaries.dictionary_factory import (  # noqa: E402
    _load_dictionary_from_disk,
)

from processors.lexicon import fold, tokens  # noqa: E402

OUT = ROOT / "processors" / "data" / "brands.tsv.gz"
# The simplemma dictionaries of make_inflections.py (the public site's languages and neighbours).
LANGUAGES = (
    "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "gd", "hbs", "hu", "is",
    "it", "lb", "lt", "lv", "mk", "nb", "nl", "nn", "pl", "pt", "ro", "ru", "sk", "sl", "sv",
    "tr", "uk",
)  # fmt: skip
# simplemma language -> wordfreq's ("hbs" is Serbo-Croatian, "sh" there).
_WORDFREQ = {"hbs": "sh", "nn": "nb"}
ORDINARY_ZIPF = 4.2
ORDINARY_LANGUAGES = 8
# See _kept_aliases: what a local chain may not be called, and what makes a chain big.
ENGLISH_NAME_ZIPF = 3.5
LOWER_ZIPF = 3.0
MANY_COUNTRIES = 10
# Vending machines that sell goods under a brand (not tickets, parking or bag dispensers).
VENDING_GOODS = frozenset({"drinks", "coffee", "water", "food", "ice_cream", "sweets", "milk"})
SHOP_AMENITIES = ("fast_food", "cafe", "pharmacy", "ice_cream")
BRAND_AMENITIES = ("vending_machine",)
SHORT = 3
# An entry sold in at least this many countries is written as "001" minus the rest.
WORLD_SHARE = 0.5
# How each alias must be written, as a prefix in the file ("^Burger King", "=KFC").
_MARK = {"any": "", "capital": "^", "exact": "="}
_NAME_TAG = re.compile(r"^(?:name|brand)(?::[a-z]{2,3})?$")


def _regions(borders: dict[str, Any]) -> tuple[dict[str, set[str]], set[str]]:
    """Every identifier country-coder knows (code, M49, Wikidata id, name) -> ISO countries."""
    features = [f["properties"] for f in borders["features"]]
    countries = {p["iso1A2"] for p in features if "iso1A2" in p and len(p["iso1A2"]) == 2}
    # "EU"/"UN" are groups, not countries, in locationSets.
    countries -= {"EU", "UN", "EZ"}
    members: dict[str, set[str]] = defaultdict(set)
    for p in features:
        code = p.get("iso1A2") or p.get("country")
        if code not in countries:
            continue
        for group in p.get("groups", ()):
            members[group.casefold()].add(code)
    resolved: dict[str, set[str]] = {}
    for p in features:
        own = p.get("iso1A2") if p.get("iso1A2") in countries else p.get("country")
        ids = [p.get(k) for k in ("iso1A2", "iso1A3", "iso1N3", "m49", "wikidata", "nameEn")]
        ids += p.get("aliases", [])
        found = {own} if own in countries else set()
        for i in ids:
            if i:
                found |= members.get(str(i).casefold(), set())
        for i in ids:
            if i and found:
                resolved[str(i).casefold()] = found
    resolved["001"] = set(countries)
    return resolved, countries


def _resolve(location: Any, regions: dict[str, set[str]], countries: set[str]) -> set[str]:
    """The countries of one locationSet item; a part of a country ("us-ca.geojson") -> it."""
    if not isinstance(location, str):
        return set()  # a point with a radius: too local to say
    key = location.casefold().removesuffix(".geojson")
    if key in regions:
        return regions[key]
    prefix = key.split("-")[0].upper()
    return {prefix} if prefix in countries and "-" in key else set()


def _location(item: dict[str, Any], regions: dict[str, set[str]], world: set[str]) -> set[str]:
    loc = item.get("locationSet", {})
    found: set[str] = set()
    for place in loc.get("include", ()):
        found |= _resolve(place, regions, world)
    for place in loc.get("exclude", ()):
        # Excluding a part of a country ("gb-nir") does not take the country out.
        if isinstance(place, str) and "-" not in place and not place.endswith(".geojson"):
            found -= _resolve(place, regions, world)
    return found


def _ordinariness(
    candidates: set[str],
) -> tuple[set[str], set[str], set[str], set[str]]:
    """Split ``candidates`` (single words as written): (frequent, widespread, lower-case, any
    dictionary word).

    Dictionaries list proper nouns too ("Ikea", Polish "adidas" = trainers), so a dictionary hit
    alone would drop most brands. Frequent: a lower-case hit in a language where the word is
    frequent (wordfreq Zipf >= ``ORDINARY_ZIPF``: "action", "next", "boots", "metro").
    Widespread: a lower-case hit in ``ORDINARY_LANGUAGES`` languages or more, frequent in none
    ("puma", "mango", "vespa": loanwords and names the dictionaries took in). Any other hit
    (German nouns and names are capitalised) makes the alias match only when written with a
    capital.
    """
    lower_hits: dict[str, list[float]] = defaultdict(list)
    any_hit: set[str] = set()
    available = wordfreq.available_languages()
    for language in LANGUAGES:
        table = _load_dictionary_from_disk(language)
        lemmas = set(table.values())
        frequency_language = _WORDFREQ.get(language, language)
        for word in candidates:
            lower = word.lower()
            folded = fold(word)  # "Göing" is typed "going"
            if any(f.encode() in table or f.encode() in lemmas for f in (lower, folded)):
                zipf = (
                    max(wordfreq.zipf_frequency(f, frequency_language) for f in (lower, folded))
                    if frequency_language in available
                    else 0.0
                )
                lower_hits[word].append(zipf)
                any_hit.add(word)
            elif word.capitalize().encode() in table or word.capitalize().encode() in lemmas:
                any_hit.add(word)
        print(f"{language}: {len(any_hit)} dictionary words so far", file=sys.stderr)
    frequent = {w for w, zipfs in lower_hits.items() if max(zipfs) >= ORDINARY_ZIPF}
    widespread = {
        w for w, zipfs in lower_hits.items() if len(zipfs) >= ORDINARY_LANGUAGES
    } - frequent
    ordinary = frequent | widespread
    # A rare form ("rimi", an Italian verb form; Rimi, the Baltic chain) is no reason to drop.
    lower_words = {w for w, zipfs in lower_hits.items() if max(zipfs) >= LOWER_ZIPF} - ordinary
    return frequent, widespread, lower_words, any_hit - ordinary


def _aliases(item: dict[str, Any]) -> list[str]:
    tags = item.get("tags", {})
    names = [item.get("displayName", "")]
    names += [v for k, v in sorted(tags.items()) if _NAME_TAG.match(k)]
    names += item.get("matchNames", [])
    # "|" and tabs separate fields in the output: an alias holding one is not a name anyway.
    return [n.strip() for n in names if n and n.strip() and not set(n) & set("|\t\n")]


def _canonical(item: dict[str, Any]) -> str:
    tags = item.get("tags", {})
    return str(tags.get("brand:en") or tags.get("brand") or item["displayName"]).strip()


def _key(alias: str) -> str:
    return " ".join(fold(m.group()) for m in tokens(alias))


def _kind(path: str) -> str | None:
    """ "shop", "brand" or None (not kept) for an NSI tree path ("brands/shop/supermarket")."""
    parts = path.split("/")
    if parts[0] != "brands":
        return None
    if parts[1] == "shop" or (parts[1] == "amenity" and parts[2] in SHOP_AMENITIES):
        return "shop"
    if parts[1] == "amenity" and parts[2] in BRAND_AMENITIES:
        return "brand"
    return None


def _collect(
    nsi: dict[str, Any], regions: dict[str, set[str]], world: set[str]
) -> dict[str, dict[str, Any]]:
    """One entry per folded name: kind, canonical name, countries, aliases (folded -> written)."""
    entries: dict[str, dict[str, Any]] = {}
    for path, tree in nsi["nsi"].items():
        kind = _kind(path)
        if kind is None:
            continue
        for item in tree["items"]:
            vending = set(item.get("tags", {}).get("vending", "").split(";"))
            if kind == "brand" and vending.isdisjoint(VENDING_GOODS):
                continue
            where = _location(item, regions, world)
            if not where:
                continue
            # One entry per name: a tip naming "Dino" cannot say which of two Dinos it means.
            key = _key(_canonical(item))
            entry = entries.setdefault(
                key, {"kind": kind, "name": _canonical(item), "countries": set(), "aliases": {}}
            )
            if kind == "shop":
                entry["kind"] = "shop"  # a brand with its own shops is first a shop
            entry["countries"] |= where
            for alias in _aliases(item):
                entry["aliases"].setdefault(_key(alias), alias)
    return entries


def _owners(entries: dict[str, dict[str, Any]]) -> dict[str, set[str]]:
    """Alias -> the entry it belongs to; an alias two entries share goes to the one it names
    outright ("Adidas" to Adidas, not to "Adidas Originals"), or to none."""
    owners: dict[str, set[str]] = defaultdict(set)
    for name, entry in entries.items():
        for key in entry["aliases"]:
            owners[key].add(name)
    for key, names in owners.items():
        if len(names) > 1:
            owners[key] = {key} if key in names else set()
    return owners


def _english_zipf(alias: str) -> float:
    return max(wordfreq.zipf_frequency(w, "en") for w in {alias.lower(), _key(alias)})


def _kept_aliases(
    entry_key: str,
    entry: dict[str, Any],
    owners: dict[str, set[str]],
    generic: list[re.Pattern[str]],
    words: tuple[set[str], set[str], set[str], set[str]],
) -> list[tuple[str, str]]:
    """(alias, case) of one entry after the ordinary-word, generic, short and shared filters.

    A one-word alias frequent in some language is dropped ("Action", "Next"). One that is a
    dictionary word in many languages but frequent in none ("Puma", "Vespa") is kept for a
    chain in ``MANY_COUNTRIES`` countries or more, capitalised only, unless it is frequent in
    English crowd text too (Zipf >= ``ENGLISH_NAME_ZIPF``: "Diesel", "Omega"): a world brand
    is what such a word names when written with a capital; a local chain of that name loses it.

    A chain in fewer than ``MANY_COUNTRIES`` countries loses an alias that is a lower-case
    dictionary word, only such words ("All Day", "New Look"), or frequent in English crowd text as a
    name or abbreviation ("Amber", "Crawford", "ABC", "PLS"): a tip naming the local chain is
    rarer than a tweet using the word. A big chain keeps it, matched only as written or
    capitalised ("Nike", "Burger King", "KFC").
    """
    frequent, widespread, lower, known = words
    big = len(entry["countries"]) >= MANY_COUNTRIES
    aliases: list[tuple[str, str]] = []
    for key, alias in sorted(entry["aliases"].items()):
        parts = key.split(" ")
        if owners[key] != {entry_key} or any(g.search(alias) for g in generic):
            continue
        if len(parts) == 1 and (key in frequent or (key in widespread and not big)):
            continue
        # Every word a name, word or abbreviation of English crowd text ("Julie's" = julie s).
        common = all(
            len(p) <= SHORT or p in lower or _english_zipf(p) >= ENGLISH_NAME_ZIPF for p in parts
        ) and any(_english_zipf(p) >= ENGLISH_NAME_ZIPF for p in parts if len(p) > SHORT)
        if len(key) <= SHORT:
            letters = alias.replace("&", "")
            if len(key) >= 2 and letters.isupper() and (big or not (common or key in lower)):
                aliases.append((alias, "exact"))
            continue
        if len(parts) == 1 and key in widespread:
            # Also frequent in English crowd text ("Diesel", "Omega", "Habitat"): dropped.
            if _english_zipf(alias) < ENGLISH_NAME_ZIPF:
                aliases.append((alias, "capital"))
            continue
        words_only = all(p in lower or len(p) <= SHORT for p in parts)
        if (words_only or common) and not big:
            continue
        capital = words_only or common or all(p in known or len(p) <= SHORT for p in parts)
        aliases.append((alias, "capital" if capital else "any"))
    return aliases


def main() -> None:
    nsi_dir, cc_dir = Path(sys.argv[1]), Path(sys.argv[2])
    nsi = json.loads((nsi_dir / "dist/json/nsi.json").read_text("utf-8"))
    patterns = json.loads((nsi_dir / "dist/json/genericWords.json").read_text("utf-8"))
    generic = [re.compile(p, re.IGNORECASE) for p in patterns["genericWords"]]
    regions, world = _regions(json.loads((cc_dir / "src/data/borders.json").read_text("utf-8")))
    entries = _collect(nsi, regions, world)

    written = {a for e in entries.values() for a in e["aliases"].values()}
    frequent_words, widespread_words, lower_words, known_words = _ordinariness(
        {m.group() for a in written for m in tokens(a)}
    )
    frequent = {_key(w) for w in frequent_words}
    widespread = {_key(w) for w in widespread_words} - frequent
    lower = {_key(w) for w in lower_words} | frequent | widespread
    known = {_key(w) for w in known_words} | lower
    owners = _owners(entries)

    lines = []
    for entry_key, entry in entries.items():
        aliases = _kept_aliases(
            entry_key, entry, owners, generic, (frequent, widespread, lower, known)
        )
        if not aliases:
            continue
        codes = entry["countries"]
        if len(codes) >= WORLD_SHARE * len(world):
            where = " ".join(["001", *(f"-{c}" for c in sorted(world - codes))])
        else:
            where = " ".join(sorted(codes))
        names = "|".join(sorted({_MARK[c] + a for a, c in aliases}))
        lines.append(f"{entry['kind']}\t{entry['name']}\t{where}\t{names}")
    lines.sort(key=lambda line: unicodedata.normalize("NFC", line.casefold()))
    header = "#world\t" + " ".join(sorted(world))
    OUT.write_bytes(gzip.compress(("\n".join([header, *lines]) + "\n").encode("utf-8"), mtime=0))
    print(f"{len(lines)} entries written to {OUT} ({len(entries) - len(lines)} dropped)")


if __name__ == "__main__":
    main()
