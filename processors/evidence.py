"""extract_evidence: countries, places, shops, brands, product ids, shop URLs and years a tip names.

Runs after ``redact``, so the text holds placeholders ("[PHONE]") instead of tipster data; a
placeholder is never evidence. Names are looked up token by token in the cached ``Lexicon``
(``processors/lexicon.py``); ids, URLs and years are found with one regular expression each.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import NamedTuple
from urllib.parse import urlsplit

from processors.false_friends import counts
from processors.lexicon import TOKEN, Entry, Kind, Lexicon, fold, fold_each, load_lexicon
from schemas import MAX_LISTED_COUNTRIES, Evidence, Reach, Tip

# Typed placeholders the redact stage leaves behind ("[EMAIL]", "[URL_TOKEN]").
PLACEHOLDER = re.compile(r"\[[A-Z_]{2,12}\]")

# A web address: with a scheme, "www.", or a bare host under a common top-level domain
# ("tchibo.de/p/123"). A redacted token inside a URL keeps it in one piece.
_TLDS = (
    "com|net|org|eu|de|at|ch|pl|cz|sk|hu|ro|bg|hr|si|fr|be|nl|lu|it|es|pt|uk|ie|dk|se|no|fi|ee|"
    "lv|lt|gr|cy|mt|tr|ru|ua|rs|shop|store|info|biz|co|io|ly"
)
URL = re.compile(
    r"(?i)(?<![\w@.])(?:https?://|www\.|[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:" + _TLDS + r")\b)"
    r"(?:[^\s<>\"'()\[\]]|\[URL_TOKEN\])*"
)
# Cheap test run before URL: most tips hold no address at all, and URL tries every word start.
# "://", or a dot after "www" or before a top-level domain; anchored on the dot (with the "://"
# test a plain substring search) so the regex only starts at dots: half the cost of trying
# three alternatives at every position.
_URL_HINT = re.compile(r"(?i)\.(?:(?<=www\.)|(?:" + _TLDS + r")\b)")
_URL_TRAILING = ".,;:!?"
# Paths of product pages across common shop systems: /p/123, /dp/B0.., /product/, -p-123.html,
# or any path segment with a long number.
_PRODUCT_PATH = re.compile(
    r"(?i)/(?:p|dp|gp/product|product|products|produkt|produkte|produit|prodotto|producto|"
    r"artikel|article|item|itm|offer|oferta|ip|pd)/|[-_/]p[-_]?\d{4,}|\d{5,}"
)
# Web-site base names that only hide where a link goes: never a shop, never a product page.
_SHORTENERS = frozenset(
    {"bit", "tinyurl", "goo", "t", "ow", "is", "buff", "rebrand", "cutt", "tiny"}
)
_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov", "edu"})

# EAN-8, UPC-A (12) and EAN-13, optionally grouped by spaces or hyphens ("5 901234 123457").
# The look-behinds here sit after the first digit, not before it: a pattern that starts with a
# digit lets the regex engine skip to digits (half the cost or less on ordinary text).
_BARCODE = re.compile(r"\d(?<![\w-]\d)(?:[ -]?\d){7,12}(?![\w-])")
_BARCODE_LENGTHS = frozenset({8, 12, 13})
# An article number needs a keyword in one of the languages: "Art.-Nr. 12345", "réf. 558213".
_ARTICLE = re.compile(
    r"(?i)(?:\b(?:art(?:ikel)?\.?[ -]?(?:nr|no|num(?:mer|ber)?)|artikel(?:nummer|nr)|"
    r"article\s+(?:no|number|nr)|item\s+(?:no|number)|r[eé]f(?:[eé]rence)?|sku|"
    r"nr\.?\s+art(?:ykułu)?|numer\s+artykułu|cod(?:ice)?\.?\s*art(?:icolo)?|c[oó]digo|"
    r"tuotenumero|cikksz[aá]m|katalogov[eé]\s+č[ií]slo|ürün\s+kodu)|артикул)"
    r"[.:#\s-]*([A-Z0-9](?:[A-Z0-9./-]{1,18}[A-Z0-9]))"
)
_ARTICLE_MIN_DIGITS = 3
# First words of the keywords above, folded: _ARTICLE only runs when the tip has one of them.
_ARTICLE_WORDS = frozenset(
    [
        "art",
        "artikel",
        "artikelnummer",
        "artikelnr",
        "article",
        "item",
        "ref",
        "reference",
        "sku",
        "nr",
        "numer",
        "cod",
        "codice",
        "codigo",
        "tuotenumero",
        "cikkszam",
        "katalogove",
        "urun",
        "артикул",
    ]
)
# A year between 1950 and 2099; what the tip's own date allows is checked afterwards.
_YEAR = re.compile(
    r"(?i)((?:1(?<![\d,]1)9[5-9]|2(?<![\d,]2)0\d)\d)(?!\d)"
    # Not a price, a quantity or a size: "2000 €", "1990 zł", "2000 mAh", "2010x".
    r"(?![,.]\d|\s?[€£$%]|\s?(?:eur|euro|zł|zl|pln|kr|kč|kc|ft|lei|ml|kg|cm|mm|st|stk|szt|pcs|mah)\b"
    # Single-letter units only when written on the number: "v" and "w" are also "in" (cs, pl).
    r"|(?:x|g|m|l|w|v)\b)"
)
_YEAR_MIN = 1950
_CURRENCY_BEFORE = re.compile(r"[€£$]\s?$")


class Analysis(NamedTuple):
    """A tip text split once for both evidence and score (cached: score reuses it)."""

    text: str  # placeholders blanked
    links: tuple[tuple[str, int, int], ...]  # every web address with its span in ``text``
    words: tuple[str, ...]  # word tokens outside links, as written
    folded: tuple[str, ...]  # the same, casefolded and accent-folded
    rest: str  # ``text`` with the links blanked too: where the words are


# Between two words, what ends a sentence: a full stop, question or exclamation mark, colon,
# semicolon, ellipsis or line break. The first word of a text opens one too.
_SENTENCE_END = re.compile(r"[.!?:;\n…]")


@lru_cache(maxsize=1024)
def analyse(raw: str) -> Analysis:
    """Blank placeholders, find links, tokenise the rest. Cached by text (tips are redacted)."""
    text = PLACEHOLDER.sub(lambda m: " " * len(m.group()), raw)
    links: tuple[tuple[str, int, int], ...] = ()
    rest = text
    if "://" in text or _URL_HINT.search(text):
        links = tuple((m.group(), m.start(), m.end()) for m in URL.finditer(text))
        rest = _blank(text, [(start, end) for _, start, end in links])
    # TOKEN has no groups: findall gives the tokens themselves, without a match object each.
    words = tuple(TOKEN.findall(rest))
    return Analysis(text, links, words, tuple(map(fold_each, words)), rest)


def opens_sentence(analysis: Analysis, i: int) -> bool:
    """Whether word ``i`` is the first of the text or follows what ends a sentence. Asked only
    for a false friend, so the words' positions are found here, not for every tip."""
    if i == 0:
        return True
    for n, match in enumerate(TOKEN.finditer(analysis.rest)):
        if n == i - 1:
            previous_end = match.end()
        elif n == i:
            return _SENTENCE_END.search(analysis.rest, previous_end, match.start()) is not None
    return False


@dataclass
class _Found:
    countries: set[str] = field(default_factory=set)
    cities: set[str] = field(default_factory=set)
    shops: set[str] = field(default_factory=set)
    brands: set[str] = field(default_factory=set)
    product_ids: dict[str, None] = field(default_factory=dict)
    urls: dict[str, None] = field(default_factory=dict)
    years: set[int] = field(default_factory=set)


def ean_is_valid(digits: str) -> bool:
    """GS1 check digit of an EAN-8, UPC-A or EAN-13 (weights 3,1,3,... from the right)."""
    if len(digits) not in _BARCODE_LENGTHS or not digits.isdigit():
        return False
    body, check = digits[:-1], int(digits[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def _site(host: str) -> str:
    """The base name of a host: "www.lidl.co.uk" -> "lidl"."""
    labels = [label for label in host.casefold().split(".") if label and label != "www"]
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL:
        return labels[-3]
    return labels[-2] if len(labels) >= 2 else (labels[0] if labels else "")


def _clean_url(raw: str) -> str:
    url = raw.rstrip(_URL_TRAILING)
    if not re.match(r"(?i)https?://", url):
        url = "https://" + url
    return url


def _urls(analysis: Analysis, lexicon: Lexicon, found: _Found) -> list[tuple[int, int]]:
    spans = []
    for link, start, end in analysis.links:
        spans.append((start, end))
        parts = urlsplit(_clean_url(link))
        site = _site(parts.hostname or "")
        if site in _SHORTENERS:
            continue
        shop = lexicon.domains.get(site)
        if shop:
            found.shops.add(shop)
        if shop or _PRODUCT_PATH.search(parts.path):
            # Query and fragment are dropped: they carry session and referral tokens, never the
            # product, and a URL on a tip must not point back at the tipster.
            path = parts.path.rstrip("/")
            found.urls[f"https://{(parts.hostname or '').casefold()}{path}"] = None
    return spans


def _inside(position: int, spans: Iterable[tuple[int, int]]) -> bool:
    return any(start <= position < end for start, end in spans)


def _product_ids(analysis: Analysis, found: _Found, taken: list[tuple[int, int]]) -> None:
    text = analysis.text
    keyworded = not _ARTICLE_WORDS.isdisjoint(analysis.folded)
    for match in _ARTICLE.finditer(text) if keyworded else ():
        code = match.group(1)
        if sum(c.isdigit() for c in code) >= _ARTICLE_MIN_DIGITS:
            found.product_ids[f"art:{code.upper()}"] = None
            taken.append(match.span())
    for match in _BARCODE.finditer(text):
        if _inside(match.start(), taken):
            continue
        digits = re.sub(r"[ -]", "", match.group())
        if ean_is_valid(digits):
            found.product_ids[digits] = None
            taken.append(match.span())


def _years(text: str, newest: int, found: _Found, taken: list[tuple[int, int]]) -> None:
    for match in _YEAR.finditer(text):
        year = int(match.group(1))
        if not _YEAR_MIN <= year <= newest or _inside(match.start(), taken):
            continue
        if _CURRENCY_BEFORE.search(text, max(0, match.start() - 2), match.start()):
            continue
        found.years.add(year)


# Irish marks case and article on a name's first letter with a lower-case prefix (eclipsis
# and h-prothesis): "hÉireann", "nGaillimh", "gCorcaigh", "bhFrainc" are written capitalised.
_MUTATION = re.compile(r"(?:bh|[bdghmnt])[^\W\d_]")


def _capitalised(word: str) -> bool:
    if word[:1].isupper():
        return True
    match = _MUTATION.match(word)
    return match is not None and match.group()[-1].isupper()


def _adds_accents(written: str, surface: str) -> bool:
    """True when ``written`` carries a mark where the name ``surface`` has a bare letter:
    folding forgives accents a tipster drops ("lodz" is Łódź), not ones the name lacks
    (Estonian "päris", quite, is no Paris; Latvian "bērna", a child's, no Bern). Listed
    adjective stems are written bare on purpose ("americk" finds "američki"): a match longer
    than its surface is a stem match and never checked."""
    written, surface = written.casefold(), surface.casefold()
    if len(written) != len(surface):
        return False
    return any(
        w != c and fold(w) == c and c.isascii() for w, c in zip(written, surface, strict=False)
    )


def _case_ok(entry: Entry, words: Sequence[str]) -> bool:
    if entry.case == "any":
        return _capitalised(words[0]) or not _adds_accents(" ".join(words), entry.surface)
    if entry.case == "capital":
        return _capitalised(words[0])
    return " ".join(words) == entry.surface


def _names(analysis: Analysis, lexicon: Lexicon, found: _Found, language: str) -> None:
    words, folded = analysis.words, analysis.folded
    after = 0  # the first position not consumed by a name already found
    # Only where a name can start: most words are known to start none (the same walk as
    # trying every position, without a lookup per word).
    for i in lexicon.candidates(folded, language):
        if i < after:
            continue
        n, entries = lexicon.lookup(folded, i, language)
        if not n:
            continue
        hit = False
        if n == 1 and not counts(
            language, folded[i], words[i], partial(opens_sentence, analysis, i)
        ):
            entries = ()  # a common word of the tip's language ("Same picture", "Samo u")
        for entry in entries:
            if not _case_ok(entry, words[i : i + n]):
                continue
            hit = True
            if entry.kind == "country":
                found.countries.add(entry.value)
            elif entry.kind == "city":
                found.cities.add(entry.value)
            elif entry.kind == "shop":
                found.shops.add(entry.value)
            else:
                found.brands.add(entry.value)
                owner = lexicon.brand_owner.get(entry.value)
                if owner:
                    found.shops.add(owner)
        after = i + (n if hit else 1)


def _blank(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """``text`` with ``spans`` replaced by spaces, so names inside URLs are not counted twice."""
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def find_evidence(
    text: str, newest_year: int, lexicon: Lexicon | None = None, language: str = "und"
) -> Evidence:
    """Everything ``text`` names, in canonical form; years after ``newest_year`` are ignored.

    ``language`` is the tip's (``Tip.language``): inflected forms known only in that language
    count too ("Viini" is Vienna in Estonian and wine in Finnish); ``und`` uses only the forms
    that are no common word anywhere.
    """
    lexicon = lexicon or load_lexicon()
    found = _Found()
    analysis = analyse(text)
    taken = _urls(analysis, lexicon, found)
    _product_ids(analysis, found, taken)
    _years(analysis.text, newest_year, found, taken)
    _names(analysis, lexicon, found, language)
    found.countries.update(lexicon.city_country[c] for c in found.cities)
    countries = tuple(sorted(found.countries))
    cities = tuple(sorted(found.cities))
    shops = tuple(sorted(found.shops))
    brands = tuple(sorted(found.brands))
    return Evidence(
        countries=countries,
        cities=cities,
        shops=shops,
        brands=brands,
        product_ids=tuple(found.product_ids),
        urls=tuple(found.urls),
        years=tuple(sorted(found.years)),
        reach=(
            *(_reach(lexicon, "country", v) for v in countries),
            *(_reach(lexicon, "city", v) for v in cities),
            *(_reach(lexicon, "shop", v) for v in shops),
            *(_reach(lexicon, "brand", v) for v in brands),
        ),
    )


def _reach(lexicon: Lexicon, kind: Kind, value: str) -> Reach:
    countries = lexicon.reach(kind, value)
    listed = countries if len(countries) <= MAX_LISTED_COUNTRIES else ()
    return Reach(kind=kind, value=value, countries=listed, spread=len(countries))


def extract_evidence(tip: Tip, lexicon: Lexicon | None = None) -> Tip:
    """Fill ``tip.evidence`` from its subject and body.

    ``lexicon`` is the one built from the operator's ``score_lexicon_path`` setting
    (``load_lexicon(settings.score_lexicon_path)``); None means the packaged lexicon. Countries
    include those of the cities named ("in Graz" -> AT) so tips in different words agree.
    The tip's detected language selects the inflected forms only that language has.
    Years later than the tip's own ``received_at`` are not years but other numbers.
    """
    text = f"{tip.subject}\n{tip.body}" if tip.subject else tip.body
    evidence = find_evidence(text, tip.received_at.year, lexicon, tip.language)
    return tip.model_copy(update={"evidence": evidence})
