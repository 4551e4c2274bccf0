"""score: a 0-100 relevance score with the reasons an analyst can read.

The score is ``BASE`` plus the signed weight of every reason, clamped to 0..100, so the reasons
on a tip always add up to its score (before clamping). Reasons come from:

    evidence       shops, own brands, countries, places, barcodes, article numbers, product
                   links and years that ``extract_evidence`` found
    the text       detail, first-hand knowledge, hedging, abuse, jokes, repetition, links only
    the crowd      independent tipsters agreeing (``cluster``, ``corroboration`` from dedupe),
                   near-identical photos among them; a photo that is only the object's own
                   published picture re-shared is named as such and adds nothing
    the sender     a burst of tips from one ``sender_key`` (``SenderActivity``)

Change any weight or rule and bump ``SCORE_VERSION``: every scored row carries it, so history can
be re-scored and compared.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from processors.activity import SenderActivity
from processors.evidence import analyse
from processors.lexicon import fold, tokens
from schemas import Evidence, Reach, Reason, ScoredTip

SCORE_VERSION = "2.2"
BASE = 20

# Weights in one place; each is a number of score points.
W_SHOP, W_SHOP_MORE, W_SHOP_MORE_MAX = 18, 4, 8
W_BRAND, W_BRAND_MORE = 14, 4
W_COUNTRY, W_COUNTRY_MORE, W_COUNTRY_MORE_MAX = 10, 3, 6
W_CITY = 8
W_BARCODE, W_ARTICLE = 20, 14
W_PRODUCT_URL = 12
W_YEAR, W_YEARS = 6, 9
W_DETAIL, W_DETAIL_LONG = 5, 9
W_FIRSTHAND = 10
W_HEDGE = -6
W_EMPTY, W_ONE_WORD, W_VERY_SHORT = -40, -30, -15
W_LINK_ONLY, W_LINK_ONLY_PRODUCT = -25, -10
W_MANY_LINKS = -15
W_REPETITIVE, W_REPEATED_LINKS = -20, -10
W_ABUSE = -35
W_JOKE = -15
W_UNRELATED = -15
W_COPY, COPY_MIN_SIZE = -10, 10
W_AGREE_STEP, W_AGREE_MAX = 5, 15
W_SAME_STEP, W_SAME_MAX = 4, 12
W_BURST_STEP, W_BURST_MAX = 6, 30
# From these tipster counts on the crowd weights no longer grow, and the reasons say "at least
# N": the sink re-scores earlier tips only while a claim's count is below them (store/rescore.py).
AGREE_FULL = -(-W_AGREE_MAX // W_AGREE_STEP) + 1
SAME_FULL = -(-W_SAME_MAX // W_SAME_STEP) + 1

# Specificity: a shop or brand weighs its full weight when it points to one country, and falls
# with the log of the number of countries to SPREAD_FLOOR of it when sold in WORLD countries
# (a chain in one country >> IKEA in 44 > Adidas, Coca-Cola everywhere). Countries and cities
# point to one country each and keep their weights.
SPREAD_FLOOR = 0.4
WORLD = 250

DETAIL_WORDS, DETAIL_LONG_WORDS = 12, 25
MANY_LINKS = 3
# Below this share of distinct words, a text of REPEAT_MIN_WORDS or more is copy-paste.
REPEAT_MIN_WORDS, REPEAT_MAX_DISTINCT = 8, 0.5


@dataclass(frozen=True)
class WordList:
    """Folded words, word starts and multi-word phrases of one signal."""

    words: frozenset[str]
    stems: tuple[str, ...]
    # First word of each phrase -> the phrases starting with it, so a tip is scanned once.
    phrases: dict[str, tuple[tuple[str, ...], ...]]
    # The stems as one regex over the space-joined words: one search instead of a
    # ``startswith`` per word (tokens hold no spaces, and stems with spaces are phrases).
    _stem_start: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pattern = None
        if self.stems:
            # Searched in " " + the joined words: the leading literal space lets the regex
            # engine jump from space to space, and the stems as a trie try each letter once.
            pattern = re.compile(" " + _trie(self.stems))
        object.__setattr__(self, "_stem_start", pattern)

    def hits(
        self, folded: Sequence[str], distinct: frozenset[str], spaced: str | None = None
    ) -> bool:
        """Whether any word, stem or phrase occurs in ``folded`` (``distinct`` = its set;
        ``spaced``, if given, is ``" " + " ".join(distinct)``, built once for every list)."""
        if not self.words.isdisjoint(distinct):
            return True
        if self._stem_start is not None and self._stem_start.search(
            " " + " ".join(distinct) if spaced is None else spaced
        ):
            return True
        starts = self.phrases.keys() & distinct
        if not starts:
            return False
        # Only the positions where a phrase can start (a comprehension: most words cannot).
        for i in [i for i, word in enumerate(folded) if word in starts]:
            for phrase in self.phrases[folded[i]]:
                if tuple(folded[i : i + len(phrase)]) == phrase:
                    return True
        return False


def _trie(stems: Iterable[str]) -> str:
    """A regex matching where any of ``stems`` starts, one branch per letter (a stem's
    continuations are dropped: the match only has to exist)."""
    root: dict[str, Any] = {}
    for stem in stems:
        node = root
        for c in stem:
            node = node.setdefault(c, {})
        node[""] = {}

    def render(node: dict[str, Any]) -> str:
        if "" in node:
            return ""
        branches = [re.escape(c) + render(child) for c, child in sorted(node.items())]
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return render(root)


def _split(items: Iterable[str]) -> tuple[set[str], set[tuple[str, ...]]]:
    """Fold list items; those that tokenise to several words ("peut-être") become phrases."""
    words: set[str] = set()
    phrases: set[tuple[str, ...]] = set()
    for item in items:
        parts = tuple(fold(m.group()) for m in tokens(item))
        if len(parts) == 1:
            words.add(parts[0])
        elif parts:
            phrases.add(parts)
    return words, phrases


def _word_list(section: dict[str, list[str]]) -> WordList:
    words, phrases = _split(section.get("words", ()))
    more_words, more_phrases = _split(section.get("phrases", ()))
    phrases |= more_phrases
    # A one-word "phrase" is just a word.
    words |= more_words
    stems = tuple(sorted({fold(s) for s in section.get("stems", ()) if " " not in s}))
    phrases |= {tuple(fold(w) for w in s.split()) for s in section.get("stems", ()) if " " in s}
    by_first: dict[str, list[tuple[str, ...]]] = {}
    for phrase in sorted(phrases):
        by_first.setdefault(phrase[0], []).append(phrase)
    return WordList(frozenset(words), stems, {k: tuple(v) for k, v in by_first.items()})


@dataclass(frozen=True)
class Signals:
    abuse: WordList
    joke: WordList
    hedge: WordList
    firsthand: WordList
    product: WordList
    laugh: re.Pattern[str]
    emoji: frozenset[str]


@cache
def signals() -> Signals:
    """The packaged word lists (``data/signals.toml``), folded once."""
    text = resources.files("processors.data").joinpath("signals.toml").read_text("utf-8")
    data = tomllib.loads(text)
    syllables = "|".join(
        re.escape(fold(s)) for s in sorted(data["joke"]["laugh_syllables"], key=len, reverse=True)
    )
    return Signals(
        abuse=_word_list(data["abuse"]),
        joke=_word_list(data["joke"]),
        hedge=_word_list(data["hedge"]),
        firsthand=_word_list(data["firsthand"]),
        product=_word_list(data["product"]),
        # A whole word of laughter, searched in the space-joined words (no word holds a space).
        # Searched in " " + the words: a literal first character is found fast.
        laugh=re.compile(rf" (?:{syllables}){{2,}}h?(?= |$)"),
        emoji=frozenset(data["joke"]["emoji"]),
    )


def _names(values: Iterable[str]) -> str:
    return ", ".join(values)


def specificity(spread: int) -> float:
    """How much naming something sold in ``spread`` countries narrows the search, 1..SPREAD_FLOOR.

    0 (the lexicon does not say: a web shop, an operator's entry without countries) counts as
    worldwide: nothing is known to narrow.
    """
    if spread == 1:
        return 1.0
    spread = min(WORLD, spread) if spread else WORLD
    return 1.0 - (1.0 - SPREAD_FLOOR) * math.log(spread) / math.log(WORLD)


def _narrowest(reach: Sequence[Reach], kind: str, values: Iterable[str]) -> tuple[float, str]:
    """The highest specificity among ``values`` of ``kind``, and how to say it."""
    of_kind = {r.value: r for r in reach if r.kind == kind}
    # Evidence written before reach existed has no spreads: full weight, as it was scored then.
    spreads = {v: (of_kind[v].spread or WORLD) if v in of_kind else 1 for v in values}
    value = min(spreads, key=lambda v: (spreads[v], v))
    best = spreads[value]
    if best == 1:
        where = of_kind[value].countries if value in of_kind else ()
        return 1.0, f" (only in {where[0]})" if where else ""
    return specificity(best), f" (sold in {best} countries)" if best < WORLD else " (worldwide)"


def _evidence_reasons(ev: Evidence) -> list[Reason]:
    reasons: list[Reason] = []
    if ev.shops:
        extra = min(W_SHOP_MORE_MAX, W_SHOP_MORE * (len(ev.shops) - 1))
        label = "names a shop chain" if len(ev.shops) == 1 else "names shop chains"
        factor, where = _narrowest(ev.reach, "shop", ev.shops)
        reasons.append(
            Reason(
                feature="shop",
                text=f"{label}: {_names(ev.shops)}{where}",
                weight=round(W_SHOP * factor) + extra,
            )
        )
    if ev.brands:
        factor, where = _narrowest(ev.reach, "brand", ev.brands)
        weight = round(W_BRAND * factor) + W_BRAND_MORE * min(1, len(ev.brands) - 1)
        reasons.append(
            Reason(
                feature="brand", text=f"names a brand: {_names(ev.brands)}{where}", weight=weight
            )
        )
    if ev.countries:
        extra = min(W_COUNTRY_MORE_MAX, W_COUNTRY_MORE * (len(ev.countries) - 1))
        reasons.append(
            Reason(
                feature="country", text=f"country: {_names(ev.countries)}", weight=W_COUNTRY + extra
            )
        )
    if ev.cities:
        reasons.append(Reason(feature="city", text=f"place: {_names(ev.cities)}", weight=W_CITY))
    barcodes = [p for p in ev.product_ids if not p.startswith("art:")]
    articles = [p.removeprefix("art:") for p in ev.product_ids if p.startswith("art:")]
    if barcodes:
        reasons.append(
            Reason(feature="barcode", text=f"valid barcode: {_names(barcodes)}", weight=W_BARCODE)
        )
    if articles:
        reasons.append(
            Reason(feature="article", text=f"article number: {_names(articles)}", weight=W_ARTICLE)
        )
    if ev.urls:
        hosts = sorted({u.split("/")[2].removeprefix("www.") for u in ev.urls})
        reasons.append(
            Reason(
                feature="product_url",
                text=f"links a shop page: {_names(hosts)}",
                weight=W_PRODUCT_URL,
            )
        )
    if ev.years:
        weight = W_YEAR if len(ev.years) == 1 else W_YEARS
        years = _names(str(y) for y in ev.years)
        reasons.append(Reason(feature="year", text=f"year: {years}", weight=weight))
    return reasons


def _text_reasons(tip: ScoredTip) -> list[Reason]:
    sig = signals()
    raw = f"{tip.subject}\n{tip.body}" if tip.subject else tip.body
    analysis = analyse(raw)
    links = [link for link, _, _ in analysis.links]
    folded = analysis.folded
    distinct = frozenset(folded)
    n = len(folded)
    ev = tip.evidence
    reasons: list[Reason] = []

    if n == 0 and not links:
        reasons.append(Reason(feature="empty", text="empty tip", weight=W_EMPTY))
    elif n <= 2 and links:
        if ev.urls:
            reasons.append(
                Reason(feature="link_only", text="only a shop link", weight=W_LINK_ONLY_PRODUCT)
            )
        else:
            reasons.append(
                Reason(feature="link_only", text="no content beyond a link", weight=W_LINK_ONLY)
            )
    elif n == 1 and ev.is_empty():
        reasons.append(Reason(feature="one_word", text="one-word tip", weight=W_ONE_WORD))
    elif n <= 3 and ev.is_empty():
        reasons.append(Reason(feature="very_short", text=f"only {n} words", weight=W_VERY_SHORT))
    elif n >= DETAIL_LONG_WORDS:
        reasons.append(Reason(feature="detail", text=f"detailed ({n} words)", weight=W_DETAIL_LONG))
    elif n >= DETAIL_WORDS:
        reasons.append(Reason(feature="detail", text=f"detailed ({n} words)", weight=W_DETAIL))

    if len(links) >= MANY_LINKS:
        reasons.append(
            Reason(feature="many_links", text=f"many links ({len(links)})", weight=W_MANY_LINKS)
        )
    if len(links) >= 2 and len(set(links)) < len(links):
        reasons.append(
            Reason(feature="repeated_links", text="the same link repeated", weight=W_REPEATED_LINKS)
        )
    if n >= REPEAT_MIN_WORDS and len(distinct) / n < REPEAT_MAX_DISTINCT:
        reasons.append(Reason(feature="repetitive", text="repetitive text", weight=W_REPETITIVE))

    # Once: the laugh pattern and every list's stems search the distinct words after a space.
    words = " " + " ".join(distinct)
    if sig.abuse.hits(folded, distinct, words):
        reasons.append(Reason(feature="abuse", text="abusive language", weight=W_ABUSE))
    laughing = sig.laugh.search(words) is not None or any(e in raw for e in sig.emoji)
    if laughing or sig.joke.hits(folded, distinct, words):
        reasons.append(Reason(feature="joke", text="joke or mockery", weight=W_JOKE))

    firsthand = sig.firsthand.hits(folded, distinct, words)
    if firsthand:
        reasons.append(
            Reason(
                feature="firsthand", text="first-hand: bought, owns or sold it", weight=W_FIRSTHAND
            )
        )
    elif sig.hedge.hits(folded, distinct, words):
        reasons.append(Reason(feature="hedge", text="a guess (looks like, maybe)", weight=W_HEDGE))
    if n > 1 and ev.is_empty() and not firsthand and not sig.product.hits(folded, distinct, words):
        reasons.append(
            Reason(
                feature="unrelated", text="nothing specific about the object", weight=W_UNRELATED
            )
        )
    return reasons


def _tipsters(n: int, full: int) -> str:
    return f"at least {full} independent tipsters" if n >= full else f"{n} independent tipsters"


def _crowd_reasons(tip: ScoredTip) -> list[Reason]:
    reasons: list[Reason] = []
    cluster = tip.cluster
    copy = cluster is not None and cluster.exact and cluster.size >= COPY_MIN_SIZE
    if cluster is not None and copy:
        reasons.append(
            Reason(
                feature="copy",
                text=f"exact copy of a message seen {cluster.size} times",
                weight=W_COPY,
            )
        )
    if tip.reshared_pictures:
        # Marked for the analyst, weighed as nothing: the appeal's own picture sent back.
        reasons.append(
            Reason(
                feature="reshared_picture",
                text="re-shared picture of the object, not new evidence",
                weight=0,
            )
        )
    agreeing = [c for c in tip.corroboration if c.senders >= 2]
    if agreeing:
        best = max(agreeing, key=lambda c: (min(c.senders, AGREE_FULL), c.kind, c.value))
        senders = min(best.senders, AGREE_FULL)
        weight = min(W_AGREE_MAX, W_AGREE_STEP * (senders - 1))
        who = _tipsters(senders, AGREE_FULL)
        text = (
            f"{who} sent near-identical photos"
            if best.kind == "photo"
            else f"{who} agree on {best.kind} {best.value}"
        )
        reasons.append(Reason(feature="agree", text=text, weight=weight))
    elif cluster is not None and cluster.distinct_senders >= 2 and not copy:
        senders = min(cluster.distinct_senders, SAME_FULL)
        reasons.append(
            Reason(
                feature="same_tip",
                text=f"{_tipsters(senders, SAME_FULL)} sent this tip",
                weight=min(W_SAME_MAX, W_SAME_STEP * (senders - 1)),
            )
        )
    return reasons


def _sender_reasons(tip: ScoredTip, activity: SenderActivity) -> list[Reason]:
    count = activity.observe(tip)
    over = count - activity.limits.burst
    if over <= 0:
        return []
    minutes = int(activity.limits.window.total_seconds() // 60)
    weight = -min(W_BURST_MAX, W_BURST_STEP * over)
    return [
        Reason(feature="burst", text=f"sender sent {count} tips in {minutes} min", weight=weight)
    ]


def score(tip: ScoredTip, activity: SenderActivity) -> ScoredTip:
    """Score ``tip`` and explain it; records the tip in ``activity`` (idempotent per tip_id)."""
    reasons = [
        Reason(feature="base", text="starting score", weight=BASE),
        *_evidence_reasons(tip.evidence),
        *_text_reasons(tip),
        *_crowd_reasons(tip),
        *_sender_reasons(tip, activity),
    ]
    total = max(0, min(100, sum(r.weight for r in reasons)))
    return tip.model_copy(
        update={"score": total, "reasons": tuple(reasons), "score_version": SCORE_VERSION}
    )
