"""dedupe: put each tip in a cluster of (near-)identical tips about the same object.

How a tip is placed (all state is per object, ``tip.object_ref``; tips without one share a
no-object bucket):

1. **Key.** The body (the subject only when the body is empty: subjects are mostly boilerplate
   such as "Re: appeal" and would make unrelated tips look alike) without links, @handles and
   "RT"/"via @x" (what re-posts change without changing the message; digits in a link are
   therefore never a "conflicting number"), casefolded, stripped of accents, redaction
   placeholders, apostrophes, emoji and punctuation, and whitespace-collapsed.
2. **Exact duplicate.** A hash of the key is looked up in a per-object table.
3. **Near duplicate.** MinHash/LSH (``processors.minhash``) over 4-character shingles of the
   key yields candidate clusters that share at least one band key with one of their
   exemplars. They are ranked by the number of shared bands and at most ``max_candidates``
   are verified, each **against its representative** (the cluster's first tip), never
   against the member that found it: so A~B, B~C, C~D cannot chain A and D. A tip joins when
   its rapidfuzz similarity to the representative reaches ``threshold``, it shares at least
   half its words with it (``MIN_SHARED_WORDS``, Dice), drops at most one of its content
   words or under a quarter of them (``MAX_DROPPED_WORDS``: a cut copy is a fragment), is not
   its text pushed along by new words in front and cut at the end (``shifted_window``), adds
   no sentence of its own longer than a run of new words may be (``adds_sentence``), has the
   same negation words, names no evidence or number that conflicts with any member's
   (different countries, cities, shops/brands, product ids, shop URLs, years), and, if
   either text has fewer than
   ``SHORT_WORDS`` words ("I recognise it", "no idea, sorry"), names evidence the cluster
   names too. Short texts that are not identical need that shared evidence to merge.
   A cluster's exemplars (its first tip, plus up to ``max_exemplars`` later members that
   were new variants, similarity below ``novelty``) are only what makes it findable. A
   bucket holds at most one exemplar per cluster and at most ``bucket_cap`` clusters, so a
   flood of variants of one guess does not grow a hot bucket: lookup cost stays flat.
4. **Cluster.** ``cluster_id`` is derived from the object and the cluster's first tip id
   (stable across restarts); its representative is that first tip. ``size`` counts tips,
   ``distinct_senders`` counts distinct ``sender_key`` values (a tip without one, e.g. from
   the anonymous web form, counts as its own sender), so a flood from one sender counts once.
5. **Corroboration.** Per object and per evidence item (kind, value) the set of distinct
   senders is kept; each tip gets the count for every item it names, itself included. This is
   what makes "Made in Poland", "z Polski" and "aus Polen" agree: the evidence stage maps all
   three to country PL even though the texts are not near-duplicates.
6. **Photos.** Attachments carry a 64-bit perceptual hash of their sanitised pixels
   (``ingest.photos.photo_hash``). Two photos at most ``NEAR_IDENTICAL_BITS`` bits apart are
   the same picture (resized, re-encoded, a few per cent cropped). A photo that is the object's
   own published picture (``DedupeIndex.restore(..., pictures=...)``, from the objects table)
   is a re-share, not new evidence: it is listed in ``ScoredTip.reshared_pictures`` and never
   counted. Any other photo corroborates like evidence does: per object, each distinct picture
   keeps its set of senders, and the tip gets ``Corroboration(kind="photo", value=<the first
   copy's hash>)`` with their count.

Memory is bounded by these ``DedupeIndex`` caps (keyword-only; defaults in brackets):

    max_objects       [1000]    objects held; the least recently used object is dropped whole
    max_indexed_tips  [50000]   exemplars (signatures) per object; when over, the least recently
                                matched cluster is forgotten with all its exemplars
    max_exemplars     [8]       exemplars per cluster
    max_exact_keys    [200000]  exact-duplicate keys per object, least recently used dropped
    max_senders       [1000]    senders remembered per cluster and per evidence item; counts
                                saturate there ("at least 1000 independent tipsters")
    max_evidence      [10000]   evidence items per object, least recently used dropped
    max_photos        [2000]    distinct pictures per object, least recently matched dropped
    redelivery_window [256]     latest results per object kept by tip id, so a tip Kafka
                                delivers twice gets the same answer and is not counted twice

A forgotten cluster is not an error: a later variant of it starts a new cluster.

Restart: ``DedupeIndex.restore`` replays stored ``ScoredTip``s with their recorded decisions
(cluster id, exact flag, similarity, ``Cluster.sequence``), rebuilding exactly the state an
uninterrupted worker would hold. Nothing here reads the environment or logs tip content.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
import unicodedata
from array import array
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import cache
from typing import TYPE_CHECKING, Literal

import numpy as np
import stop_words
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from processors.minhash import MinHasher
from schemas import Cluster, Corroboration, Evidence, ScoredTip, Tip

if TYPE_CHECKING:
    from tipline.core.settings import Settings

logger = logging.getLogger(__name__)

CorroborationKind = Literal["country", "city", "shop", "brand", "product_id", "photo"]

# Evidence fields that are counted as corroboration, with the kind name the schema uses.
_CORROBORATED: tuple[tuple[str, CorroborationKind], ...] = (
    ("countries", "country"),
    ("cities", "city"),
    ("shops", "shop"),
    ("brands", "brand"),
    ("product_ids", "product_id"),
)
# Evidence fields where two tips naming different values make different claims. Shops and
# brands are one group: the lexicon may file a chain (IKEA, Tesco) under either.
_CONFLICTING: tuple[tuple[str, ...], ...] = (
    ("countries",),
    ("cities",),
    ("shops", "brands"),
    ("product_ids",),
    ("urls",),
    ("years",),
)
# Keys with fewer words than this are "short": "I recognise it", "no idea, sorry". Such texts
# say too little to be the same message by wording alone, so unless they are identical they
# merge only when they name the same evidence.
SHORT_WORDS = 4
# Every member shares at least this much of its words with the representative (Dice
# coefficient of the word sets): what stops A~B~C~D chaining A and D into one cluster.
MIN_SHARED_WORDS = 0.5
# A member drops one of the representative's content words, or fewer than this share of them
# (typos are not dropped): a copy that drops a quarter of what was said or more is a fragment
# ("Retweeted Fox News <the headline cut short>", "How Trump is manipulating the media" for a
# longer claim), which may say something else, while the cluster shows only its
# representative's words for all its members.
MAX_DROPPED_WORDS = 0.25
# A re-post may add a greeting or a sign-off ("Hello,", "good luck", "URGENT"); a longer run
# of new words ("Then I will find it.", "I bought it in Graz") can be a claim of its own.
MAX_ADDED_WORDS = 4
# ... and all its added runs together at most this many: a greeting and a sign-off ("Hello,"
# ... "Hope it helps!"), not a new sentence at each end ("the new Asap Rocky Adidas commercial
# is fresh as shit" / "AAP is in the Adidas commercial").
MAX_ADDED_TOTAL = 6
# ... and no sentence of its own longer than a run may be: a new sentence of more words is a
# message of its own ("Then I will find it. Search for ..." for "The search for ..."), even
# where the alignment reads one of its words as a typo ("then"/"the") and so counts a shorter
# run. Shorter added sentences stay re-posts ("Hope it helps.", "Check their 2021 catalogue").
MAX_ADDED_SENTENCE = MAX_ADDED_WORDS
# Two differing words this alike are one word misspelt (rapidfuzz ratio, 0-100).
TYPO_RATIO = 75.0
# Differing words this short on both sides, and in a stop-word list, are function words, not
# claims ("a"/"the", "in"/"at"); short words that are not ("Ks"/"HA", "ZBo"/"Ill") are names.
FUNCTION_WORD_CHARS = 3

# A possessive goes with the name it follows ("@realDonaldTrump's" / "[HANDLE]'s"): left alone it
# becomes a word "s" that the other copy of the message ("Trump's" -> "trumps") cannot match.
_POSSESSIVE = r"(?:['\u2019]s\b)?"
_PLACEHOLDER = re.compile(
    r"\[(?:EMAIL|PHONE|IBAN|IP|CARD|HANDLE|PERSON|ADDRESS|URL_TOKEN)\]" + _POSSESSIVE
)
# What a re-post changes without changing the message: links (shortened ones differ on every
# share, and tracking parameters ride on them), @handles, "RT"/"via @x" and "cc @x". Removed
# before anything else, so digits inside a link can never look like a conflicting number.
_LINK = re.compile(
    r"(?i)(?:https?://|www\.)\S+|\b(?:t\.co|bit\.ly|goo\.gl|tinyurl\.com|ow\.ly|buff\.ly)/\S+"
)
_HANDLE = re.compile(r"(?<![\w@])@\w{1,30}" + _POSSESSIVE)
# Hashtags are words run together ("#HillaryClinton", "#SharpBreak"): split where a capital
# follows a small letter, so a re-post that tags a name matches the copy that spells it out.
_HASHTAG = re.compile(r"(?<![\w#])#(\w+)")
_HASHTAG_JOIN = re.compile(r"(?<=[a-z\u00df-\u00ff])(?=[A-Z\u00c0-\u00de])")
_RETWEET = re.compile(r"(?i)(?<!\w)(?:rt|mt|via|cc)(?=\s*[@:])")
_COMBINING = re.compile(r"[\u0300-\u036f]")
_APOSTROPHE = re.compile(r"['`´\u2018\u2019\u02bc]")
_WORD = re.compile(r"[^\W_]+")  # a key's words: what is left between [\W_]+ runs
_DIGITS = re.compile(r"\d")
# Where one sentence ends and the next begins (in the text, before it becomes a key).
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")

# Perceptual hashes (64 bits) this close are one picture. Measured on the real photo in
# tests/data/photos: resizing (1/4 to 2x), JPEG quality 10 and greyscale change 0 bits, cropping
# 1-4 % of each border 2-8 bits, 5 % 12; different pictures differ in 24-38 bits (about half).
NEAR_IDENTICAL_BITS = 10

# Rapidfuzz cost grows with length squared; tips longer than this are compared on their start.
FUZZY_CHARS = 1000
# Shorter/longer length ratio from which a text containing the other's words counts in full.
CONTAINMENT_LENGTH = 0.4

# Words that flip a claim ("not from IKEA"). Compared after key normalisation (accents and
# apostrophes gone), so "n'est", "isn't" and "não" appear as "nest", "isnt", "nao".
NEGATIONS = frozenset(
    {
        # en
        "not", "no", "never", "isnt", "wasnt", "arent", "werent", "dont", "doesnt", "didnt",
        "cant", "cannot", "nothing", "neither", "nor",
        # de, nl, scandinavian
        "nicht", "kein", "keine", "keinen", "keiner", "keines", "nie", "niemals", "niet",
        "geen", "nooit", "inte", "ikke", "ej", "aldrig", "ei",
        # fr, es, it, pt, ro
        "pas", "ne", "nest", "jamais", "non", "nunca", "nao", "nu", "mai",
        # pl, cs, sk, hu, hr, sl
        "nigdy", "neni", "nebyl", "nebola", "nem", "soha", "nije", "ni",
    }
)  # fmt: skip


def text_key(text: str) -> str:
    """The comparison key: casefolded, unaccented, no placeholders or punctuation."""
    # Decompose on both sides of casefold: compatibility forms fold to capitals ("𝛢" -> "Α")
    # and casefold can produce combining marks ("İ" -> "i̇").
    # Re-posts scraped from web pages carry HTML entities ("Starship&nbsp;Technologies").
    # Each pattern runs only where the character it cannot match without is there: most tips
    # have no link, handle or hashtag, and scanning for one cost ≈ 45 µs per tip (same keys).
    text = html.unescape(text)
    if "[" in text:
        text = _PLACEHOLDER.sub(" ", text)
    if "/" in text or "www." in text.lower():
        text = _LINK.sub(" ", text)
    if "@" in text or ":" in text:
        text = _RETWEET.sub(" ", text)
    if "@" in text:
        text = _HANDLE.sub(" ", text)
    if "#" in text:
        text = _HASHTAG.sub(lambda m: " " + _HASHTAG_JOIN.sub(" ", m.group(1)) + " ", text)
    text = unicodedata.normalize("NFKD", text).casefold()
    text = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
    text = _APOSTROPHE.sub("", text)
    return " ".join(_WORD.findall(text))


def tip_key(tip: Tip) -> str:
    """The key of a tip: its body, or its subject when the body says nothing."""
    return text_key(tip.body) or text_key(tip.subject)


def _keyed_text(tip: Tip) -> str:
    # The text ``tip_key`` read.
    return tip.body if text_key(tip.body) else tip.subject


def sentence_keys(text: str) -> list[list[str]]:
    """The words of each sentence of ``text``, as its key has them (empty sentences left out)."""
    parts = (text_key(part).split() for part in _SENTENCE_END.split(text))
    return [words for words in parts if words]


def adds_sentence(rep: set[str] | frozenset[str], sentences: Sequence[Sequence[str]]) -> bool:
    """True when one of ``sentences`` (of a longer text) is new: none of its words in ``rep``.

    A whole sentence the representative does not have, of more than ``MAX_ADDED_SENTENCE``
    words, is a comment or a claim of its own, however short the runs ``substitutes`` counts.
    """
    return len(sentences) > 1 and any(
        len(words) > MAX_ADDED_SENTENCE and rep.isdisjoint(words) for words in sentences
    )


def similarity(a: str, b: str, cutoff: float = 0.0) -> float:
    """Similarity of two keys in [0, 1], the best of rapidfuzz's edit and token views.

    ``ratio`` catches typos; ``token_ratio`` (the better of ``token_sort_ratio`` and
    ``token_set_ratio``) catches reordered words and re-posts with added words ("Hello, made in
    Poland. Good luck"). The token view is damped by the length ratio below
    ``CONTAINMENT_LENGTH``, because on its own it rates a two-word tip as identical to every
    long tip that happens to contain those two words.

    With ``cutoff``, any result below it may be returned as 0.0: the length bounds and
    rapidfuzz's ``score_cutoff`` then skip most of the work for candidates that cannot match.
    """
    a, b = a[:FUZZY_CHARS], b[:FUZZY_CHARS]
    if not a or not b:
        return 0.0
    cut = cutoff * 100.0
    return _similarity(a, set(a.split()), b, fuzz.ratio(a, b, score_cutoff=cut), cut)


def _similarity(a: str, a_words: set[str], b: str, edit: float, cut: float) -> float:
    """``similarity`` given ``a``'s word set and the edit ratio (0-100) already computed."""
    if edit < 100:
        short, long = sorted((len(a), len(b)))
        # The damped token view cannot exceed ``damping``.
        damping = min(1.0, short / long / CONTAINMENT_LENGTH)
        if cut <= 100 * damping and _share_most_words(a_words, b):
            edit = max(edit, fuzz.token_ratio(a, b, score_cutoff=cut / damping) * damping)
    return round(edit / 100.0, 4)


def _share_most_words(a_words: set[str], b: str) -> bool:
    # Reordered and contained texts share most of their words; checking that first skips the
    # token view (the costliest rapidfuzz call here) for most candidates that cannot match.
    b_words = set(b.split())
    return 2 * len(a_words & b_words) >= min(len(a_words), len(b_words))


Claims = tuple[frozenset[str], ...]
_NO_CLAIM: frozenset[str] = frozenset()


def claims_of(words: Iterable[str], evidence: Evidence) -> Claims:
    """What a tip claims, one set per ``_CONFLICTING`` group, then the numbers in its key."""
    # Most groups are empty, and every cluster keeps its claims: one shared empty set instead
    # of a new 216-byte one each (measured ≈ 15 % of the state's memory).
    groups = [
        frozenset(str(v) for name in names for v in getattr(evidence, name)) or _NO_CLAIM
        for names in _CONFLICTING
    ]
    groups.append(frozenset(w for w in words if _DIGITS.search(w)) or _NO_CLAIM)
    return tuple(groups)


def _key_claims(key: str, evidence: Evidence) -> Claims:
    """``claims_of(key.split(), evidence)``; a key without a digit has no number to look for."""
    return claims_of(key.split() if _DIGITS.search(key) else (), evidence)


def _claims_conflict(a: Claims, b: Claims) -> bool:
    # Naming a subset is agreeing (a re-post that drops the year); naming another value is not.
    return any(va and vb and not (va <= vb or vb <= va) for va, vb in zip(a, b, strict=True))


def _names_conflict(named: Sequence[tuple[int, frozenset[str]]], b: Claims) -> bool:
    # ``_claims_conflict`` with ``a`` given as its non-empty groups (index, values).
    for i, va in named:
        vb = b[i]
        if vb and not (va <= vb or vb <= va):
            return True
    return False


def substitutes(a: Sequence[str], b: Sequence[str]) -> bool:
    """True when word list ``b`` puts other words where ``a`` has words: another shop or town.

    Re-posts add or drop words (a greeting, "URGENT", a sign-off, the news site's name) or
    misspell them; a different claim swaps one for another in the same place ("sold at
    Rossmann in Graz" / "sold at Müller in Graz"), and the lexicon does not know every name.
    ``b`` adding a run of more than ``MAX_ADDED_WORDS`` new words counts too: that run may
    be a claim of its own; so do more than ``MAX_ADDED_TOTAL`` added words in all. Dropping
    words never does (a shorter re-post claims nothing new).
    The word lists are aligned (difflib); in each block where both sides have words of their
    own, words alike enough to be typos (rapidfuzz ratio >= ``TYPO_RATIO``, never numbers)
    are paired off. If both sides still have words there, and not only short function words
    ("a"/"the", "in"/"at"), the texts say different things. Abbreviations ("dems" /
    "democrats") are not paired: a rule that reads "spar" as short for "sparkasse" merges a
    shop with a bank, and over-merging hides a lead.
    """
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    added = 0
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op in ("replace", "insert"):
            added += max(0, (j2 - j1) - (i2 - i1))
            if added > MAX_ADDED_TOTAL:
                return True
        swap = op == "replace" and not _prefixed(a, i1, i2, j1, j2)
        if swap and _swapped(list(a[i1:i2]), list(b[j1:j2])):
            return True
        # "the search for ..." / "then I will find it. search for ...": a typo of one word
        # cannot hide a run of new words next to it.
        if op == "replace" and (j2 - j1) - (i2 - i1) > MAX_ADDED_WORDS:
            return True
        if op == "insert" and j2 - j1 > MAX_ADDED_WORDS:
            return True
    return False


def _prefixed(a: Sequence[str], i1: int, i2: int, j1: int, j2: int) -> bool:
    # New words put in front of the text may take the place of its leading article or
    # preposition ("The search for ..." / "Retweeted John Hudson Search for ..."): that is an
    # addition (counted net of the lost word), not a swap. Only at the start, where
    # re-posts put what they add ("Retweeted X", "BREAKING"), and only for one lost word and
    # more than one new ("How s the Nets ..." / "Another amazing physical game ..." stays out).
    return i1 == 0 and j1 == 0 and i2 == 1 and j2 > 1 and _function_word(a[0])


def _swapped(old: list[str], new: list[str]) -> bool:
    # A lost or extra space ("ikea store" / "ikeastore", "covid 19" / "covid19") is a typo of
    # the whole block; so is any alike block without digits.
    if "".join(old) == "".join(new):
        return False
    if fuzz.ratio("".join(old), "".join(new)) >= TYPO_RATIO and not _DIGITS.search(
        "".join((*old, *new))
    ):
        return False
    rest = []
    for word in old:
        # A number is never a typo of another number ("1990"/"1999" are different years).
        hit: int | None = None
        if new and not _DIGITS.search(word):
            found = process.extractOne(
                word, new, scorer=fuzz.ratio, score_cutoff=TYPO_RATIO, processor=None
            )
            hit = found[2] if found is not None else None
            if hit is None and len(word) <= FUNCTION_WORD_CHARS:
                # A short word has no ratio to spare: one edit is its typo ("the"/"tha"); two
                # ("Ks"/"HA") make another word. Numbers are never anyone's typo.
                hit = next(
                    (
                        i
                        for i, w in enumerate(new)
                        if not _DIGITS.search(w) and Levenshtein.distance(word, w) <= 1
                    ),
                    None,
                )
        if hit is None:
            rest.append(word)
        else:
            new.pop(hit)
    if not rest or not new:
        return False
    return not all(_function_word(w) for w in (*rest, *new))


def _function_word(word: str) -> bool:
    return len(word) <= FUNCTION_WORD_CHARS and not _DIGITS.search(word) and word in _stop_words()


@cache
def _stop_words() -> frozenset[str]:
    """Stop words of every language python-stop-words ships, folded as keys are."""
    words: set[str] = set()
    for language in stop_words.AVAILABLE_LANGUAGES:
        for word in stop_words.get_stop_words(language):
            key = text_key(word)
            if key and " " not in key:
                words.add(key)
    return frozenset(words)


def dropped_words(rep: Sequence[str], words: set[str] | frozenset[str]) -> tuple[int, int]:
    """How many of ``rep``'s content words (not short function words) ``words`` lacks, of how many.

    A word missing from ``words`` is not dropped when one of ``words`` is its typo (rapidfuzz
    ratio >= ``TYPO_RATIO``; never a number).
    """
    content = [w for w in dict.fromkeys(rep) if not _function_word(w)]
    missing = [w for w in content if w not in words]
    if not missing:
        return 0, len(content)
    # Only words the representative lacks can be its missing words' typos.
    rep_words = set(rep)
    spare = [w for w in words if w not in rep_words and not _DIGITS.search(w)]
    dropped = 0
    for word in missing:
        hit = None
        if spare and not _DIGITS.search(word):
            hit = process.extractOne(
                word, spare, scorer=fuzz.ratio, score_cutoff=TYPO_RATIO, processor=None
            )
        if hit is None:
            dropped += 1
        else:
            spare.pop(hit[2])
    return dropped, len(content)


def shifted_window(rep: Sequence[str], words: Sequence[str]) -> bool:
    """True when ``words`` is ``rep`` pushed along by new words in front and cut at the end.

    A share card or a preview has room for so many characters: words put before the text
    ("Retweeted Fox News ...") push its end out of the window, and the end of a headline or a
    tip is often the claim itself ("... to paint Capitol portrait" / "... to paint Capitol",
    "... accepts intel findings" / "... accepts intel"). Such a copy starts with words the
    representative lacks, then its first word; it ends on one of its earlier words, and
    lacks every word after that one, the last being a content word (not a short function
    word). A reordered copy ("lol is that mc hammer at the game" for "mc hammer is at the
    game aha"), one cut without new words in front, or with an ending of its own, is left to
    the other rules.
    """
    if len(rep) < 2 or not words or words[0] in rep or _function_word(rep[-1]):
        return False
    start = next((w for w in words if w in rep), None)
    if start != rep[0] or words[-1] not in rep:
        return False
    end = len(rep) - 1 - rep[::-1].index(words[-1])  # the last place the copy's end is in rep
    present = set(words)
    return end < len(rep) - 1 and all(w not in present for w in rep[end + 1 :])


def shared_words(a: set[str] | frozenset[str], b: set[str] | frozenset[str]) -> float:
    """Dice coefficient of two word sets: 1.0 for the same words, 0.0 for none in common."""
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


@dataclass(slots=True, eq=False)
class _Exemplar:
    # Exemplars only make a cluster findable (their band keys); a tip is always verified
    # against the cluster's representative, never against the exemplar that found it.
    cluster: _Cluster
    bands: bytes  # the band keys as packed uint64, to take the exemplar out of its buckets


# Most buckets hold one exemplar (a unique tip's band keys meet no other tip's): it is stored
# bare, and a list is made only when a second cluster arrives (a one-item list is 64 bytes
# more, for each of the 16 bands of every exemplar).
_Bucket = _Exemplar | list[_Exemplar]


@dataclass(slots=True, eq=False)
class _Cluster:
    cluster_id: str
    representative_tip_id: str
    seq: int  # creation order within the object: the deterministic tie-break
    rep_key: str = ""  # the representative's key (first FUZZY_CHARS characters)
    # Union of the members' claims: a tip naming another shop than ANY member stays out.
    claims: Claims = ()
    size: int = 0
    # Most clusters have one sender: a bare string until a second one arrives (an empty set
    # alone is 216 bytes).
    senders: str | set[str] = ""
    exemplars: list[_Exemplar] = field(default_factory=list)
    alive: bool = True

    def add_sender(self, sender: str, cap: int) -> None:
        if isinstance(self.senders, str):
            if not self.senders:
                self.senders = sender
            elif sender != self.senders and cap > 1:
                self.senders = {self.senders, sender}
        elif len(self.senders) < cap:
            self.senders.add(sender)

    def sender_count(self) -> int:
        if isinstance(self.senders, str):
            return 1 if self.senders else 0
        return len(self.senders)


@dataclass(slots=True, eq=False)
class _Photo:
    phash: int
    value: str  # the hash of the first copy seen: the name this picture's count goes by
    senders: set[str] = field(default_factory=set)


@dataclass(slots=True, eq=False)
class _ObjectState:
    clusters: OrderedDict[str, _Cluster] = field(default_factory=OrderedDict)  # LRU order
    buckets: dict[int, _Bucket] = field(default_factory=dict)
    exact: OrderedDict[bytes, tuple[_Cluster, str]] = field(default_factory=OrderedDict)
    evidence: OrderedDict[tuple[str, str], set[str]] = field(default_factory=OrderedDict)
    recent: OrderedDict[str, tuple[Cluster, tuple[Corroboration, ...]]] = field(
        default_factory=OrderedDict
    )
    photos: OrderedDict[int, _Photo] = field(default_factory=OrderedDict)  # LRU order
    picture: int | None = None  # the object's published picture's perceptual hash
    indexed: int = 0
    sequence: int = 0  # tips seen: the next tip gets sequence + 1
    clusters_made: int = 0


@dataclass(frozen=True, slots=True)
class _Match:
    cluster: _Cluster
    duplicate_of: str
    similarity: float
    exact: bool


def _cluster_id(object_ref: str | None, first_tip_id: str) -> str:
    digest = hashlib.sha256(f"{object_ref or ''}\x00{first_tip_id}".encode()).hexdigest()
    return f"c-{digest[:16]}"


def _exact_hash(key: str) -> bytes:
    return hashlib.blake2b(key.encode(), digest_size=8).digest()


def near_identical(a: int, b: int) -> bool:
    """Whether two perceptual hashes (as integers) name the same picture."""
    return (a ^ b).bit_count() <= NEAR_IDENTICAL_BITS


def _photo_hashes(tip: Tip) -> list[tuple[str, int]]:
    # One entry per distinct picture of the tip (a tip attaching one photo twice counts once).
    seen: dict[str, int] = {}
    for attachment in tip.attachments:
        if attachment.phash is not None:
            seen.setdefault(attachment.sha256, int(attachment.phash, 16))
    return list(seen.items())


def _sender(tip: Tip) -> str:
    # No sender key (anonymous web form): the tip is its own independent sender.
    return tip.sender_key if tip.sender_key else f"tip:{tip.tip_id}"


class DedupeIndex:
    """Per-object near-duplicate clusters and evidence corroboration, bounded in memory.

    Not thread-safe: one index per worker, fed from that worker's partitions in order.
    See the module docstring for the caps and what happens at each.
    """

    def __init__(
        self,
        *,
        threshold: float = 0.85,
        novelty: float = 0.9,
        max_objects: int = 1000,
        max_indexed_tips: int = 50_000,
        max_exemplars: int = 8,
        max_exact_keys: int = 200_000,
        max_senders: int = 1000,
        max_evidence: int = 10_000,
        max_photos: int = 2000,
        max_candidates: int = 16,
        bucket_cap: int = 8,
        redelivery_window: int = 256,
        minhash: MinHasher | None = None,
    ) -> None:
        if not 0.0 < threshold <= 1.0 or not threshold <= novelty <= 1.0:
            raise ValueError("need 0 < threshold <= novelty <= 1")
        caps = (max_objects, max_indexed_tips, max_exemplars, max_exact_keys, max_senders)
        others = (max_evidence, max_photos, max_candidates, bucket_cap)
        if min(*caps, *others) < 1 or redelivery_window < 0:
            raise ValueError("caps must be positive")
        if max_indexed_tips < max_exemplars:
            raise ValueError("max_indexed_tips must hold at least one full cluster")
        self.threshold = threshold
        self.novelty = novelty
        self.max_objects = max_objects
        self.max_indexed_tips = max_indexed_tips
        self.max_exemplars = max_exemplars
        self.max_exact_keys = max_exact_keys
        self.max_senders = max_senders
        self.max_evidence = max_evidence
        self.max_photos = max_photos
        self.max_candidates = max_candidates
        self.bucket_cap = bucket_cap
        self.redelivery_window = redelivery_window
        self._minhash = minhash or MinHasher()
        self._objects: OrderedDict[str | None, _ObjectState] = OrderedDict()

    @classmethod
    def from_settings(cls, settings: Settings) -> DedupeIndex:
        """An index with the operator's thresholds and caps."""
        return cls(
            threshold=settings.dedupe_threshold,
            max_objects=settings.dedupe_max_objects,
            max_indexed_tips=settings.dedupe_max_indexed_tips,
            max_exact_keys=settings.dedupe_max_exact_keys,
            max_senders=settings.dedupe_max_senders,
        )

    # ----------------------------------------------------------------------------- public

    def assign(self, tip: Tip) -> tuple[Cluster, tuple[Corroboration, ...]]:
        """Place ``tip`` in a cluster and count its evidence; returns both for ``dedupe``."""
        state = self._state(tip.object_ref)
        earlier = state.recent.get(tip.tip_id)
        if earlier is not None:
            return earlier  # a redelivered message: same answer, counted once
        key = tip_key(tip)
        claims = _key_claims(key, tip.evidence)  # read by both the search and the record
        # Nothing to compare (an empty tip or only placeholders): a cluster of its own.
        match, bands = self._find(state, key, claims, tip) if key else (None, None)
        sequence = state.sequence + 1
        cluster = self._record(
            state,
            tip,
            key,
            cluster_id=match.cluster.cluster_id
            if match
            else _cluster_id(tip.object_ref, tip.tip_id),
            representative=match.cluster.representative_tip_id if match else tip.tip_id,
            exact=bool(match and match.exact),
            similarity=match.similarity if match else 0.0,
            duplicate_of=match.duplicate_of if match else None,
            sequence=sequence,
            known=match.cluster if match else None,
            bands=bands,
            claims=claims,
        )
        corroboration = self._corroborate(state, tip)
        self._remember(state, tip.tip_id, cluster, corroboration)
        return cluster, corroboration

    def restore(
        self,
        tips: Iterable[ScoredTip],
        pictures: Mapping[str | None, str | None] | None = None,
    ) -> None:
        """Rebuild the state of every object in ``tips`` from its stored, already-clustered tips.

        ``pictures`` gives objects' published pictures (perceptual hash, or None for none);
        an object named there gets state even without stored tips, so it is ``held``.
        The state of those objects is replaced, not merged. Tips are replayed in their recorded
        ``Cluster.sequence`` order (falling back to ``received_at`` for tips stored without
        one), each with its recorded decision, so later tips are placed exactly as an
        uninterrupted index would place them.
        """
        pictures = pictures or {}
        by_object: dict[str | None, list[ScoredTip]] = {ref: [] for ref in pictures}
        for tip in tips:
            by_object.setdefault(tip.object_ref, []).append(tip)
        for object_ref, stored in by_object.items():
            self._objects.pop(object_ref, None)
            picture = pictures.get(object_ref)
            self._state(object_ref).picture = int(picture, 16) if picture else None
            if not stored:
                continue
            if all(t.cluster is not None and t.cluster.sequence > 0 for t in stored):
                stored.sort(key=lambda t: t.cluster.sequence if t.cluster else 0)
            else:
                stored.sort(key=lambda t: (t.received_at, t.tip_id))
            for tip in stored:
                self._replay(tip)
            logger.info("dedupe state restored: %d tips of one object", len(stored))

    def reshared(self, tip: Tip) -> tuple[str, ...]:
        """The tip's attachments (sha256) that are its object's published picture, re-shared."""
        state = self._objects.get(tip.object_ref)
        picture = state.picture if state is not None else None
        if picture is None:
            return ()
        return tuple(sha for sha, phash in _photo_hashes(tip) if near_identical(phash, picture))

    def holds(self, object_ref: str | None) -> bool:
        """Whether this index has state for the object (it may have been evicted, or never seen)."""
        return object_ref in self._objects

    def stats(self) -> dict[str, int]:
        """Sizes of the held state, for metrics and the benchmark."""
        states = self._objects.values()
        return {
            "objects": len(self._objects),
            "clusters": sum(len(s.clusters) for s in states),
            "exemplars": sum(s.indexed for s in states),
            "buckets": sum(len(s.buckets) for s in states),
            "exact_keys": sum(len(s.exact) for s in states),
            "evidence_items": sum(len(s.evidence) for s in states),
            "photos": sum(len(s.photos) for s in states),
        }

    # ---------------------------------------------------------------------------- placing

    def _state(self, object_ref: str | None) -> _ObjectState:
        state = self._objects.get(object_ref)
        if state is None:
            state = self._objects[object_ref] = _ObjectState()
            while len(self._objects) > self.max_objects:
                self._objects.popitem(last=False)
                logger.info("dedupe: least recently used object dropped (max_objects)")
        else:
            self._objects.move_to_end(object_ref)
        return state

    def _find(
        self, state: _ObjectState, key: str, claims: Claims, tip: Tip
    ) -> tuple[_Match | None, list[int] | None]:
        """The best earlier cluster for ``key``, and the band keys if they were computed.

        Admission is against the cluster's representative (see ``_admits``), so similarity
        never travels along a chain of members.
        """
        query = key[:FUZZY_CHARS]
        words = set(query.split())
        hit = state.exact.get(_exact_hash(key))
        # The same key can still make another claim: keys drop links, evidence keeps shop URLs.
        if hit is not None and hit[0].alive and not _claims_conflict(claims, hit[0].claims):
            return _Match(cluster=hit[0], duplicate_of=hit[1], similarity=1.0, exact=True), None
        bands = self._minhash.keys(query)
        votes: dict[_Cluster, int] = {}
        # This loop reads 16 buckets of up to ``bucket_cap`` exemplars for every tip (the
        # largest share of a flood tip's own time in ``_find``): no call per bucket.
        get, count = state.buckets.get, votes.get
        for band in bands:
            bucket = get(band)
            if bucket is None:
                continue
            if isinstance(bucket, _Exemplar):
                votes[bucket.cluster] = count(bucket.cluster, 0) + 1
                continue
            for exemplar in bucket:
                votes[exemplar.cluster] = count(exemplar.cluster, 0) + 1
        if not votes:
            return None, bands
        # Most shared bands first; ties keep the order buckets were read in (a stable sort).
        ranked = sorted(votes, key=votes.__getitem__, reverse=True)[: self.max_candidates]
        # A candidate naming another shop, town or number can never be admitted (``_admits``),
        # so it is dropped before any similarity is computed: in a flood of alike tips that is
        # most of them. The order of the rest, and so the choice, is unchanged.
        named = [(i, va) for i, va in enumerate(claims) if va]  # most groups are empty
        if named:
            ranked = [c for c in ranked if not _names_conflict(named, c.claims)]
        if not ranked:
            return None, bands
        best: tuple[float, int, int] | None = None
        found: _Cluster | None = None
        cut = self.threshold * 100.0
        # The sentences only when the text has more than one, and only for a candidate that
        # passes every other test (rarely more than one per tip).
        several = _SENTENCE_END.search(tip.body) or _SENTENCE_END.search(tip.subject)
        sentences: list[list[str]] | None = None if several else []
        # Edit ratios against all candidate representatives in one call; the token view only
        # where needed.
        edits = process.cdist(
            [query], [c.rep_key for c in ranked], scorer=fuzz.ratio, score_cutoff=cut
        )[0].tolist()
        for cluster, edit in zip(ranked, edits, strict=True):
            score = _similarity(query, words, cluster.rep_key, edit, cut)
            if score < self.threshold or not self._admits(cluster, query, words, claims):
                continue
            # A new sentence needs a text of several and more new words than
            # MAX_ADDED_SENTENCE: most re-posts have fewer, and skip the sentence split.
            if sentences is None or sentences:
                rep = frozenset(cluster.rep_key.split())
                if len(words - rep) > MAX_ADDED_SENTENCE:
                    if sentences is None:
                        sentences = sentence_keys(_keyed_text(tip))
                    if adds_sentence(rep, sentences):
                        continue
            rank = (score, votes[cluster], -cluster.seq)
            if best is None or rank > best:
                best, found = rank, cluster
            if score >= self.novelty:
                break  # candidates come most-shared-bands first: a closer one would not differ
        if found is None or best is None:
            return None, bands
        match = _Match(
            cluster=found,
            duplicate_of=found.representative_tip_id,
            similarity=best[0],
            exact=False,
        )
        return match, bands

    @staticmethod
    def _admits(cluster: _Cluster, query: str, words: set[str], claims: Claims) -> bool:
        """Whether a tip similar to ``cluster``'s representative may join it.

        It must share at least ``MIN_SHARED_WORDS`` of its words with the representative,
        drop at most one of its content words or under ``MAX_DROPPED_WORDS`` of them,
        not be the representative shifted by new words in front and cut (``shifted_window``),
        have the same negation words, put no other words in place of the representative's
        (``substitutes``: only additions and typos), name nothing that conflicts with any
        member, and, when either text is short, name some evidence the cluster names too.
        """
        # Built here rather than kept per cluster: a word set is ~1.5 KB, and only the few
        # verified candidates need it.
        rep = frozenset(cluster.rep_key.split())
        if shared_words(words, rep) < MIN_SHARED_WORDS:
            return False
        if not NEGATIONS.isdisjoint(words ^ rep):
            return False
        # The cheap set tests before the word alignment (``_find`` has already dropped
        # candidates whose claims conflict; checked again so this test stands on its own).
        if _claims_conflict(claims, cluster.claims):
            return False
        # Numbers (the last group) are not evidence: "no 2" and "no 2 sorry" say nothing.
        if min(len(words), len(rep)) < SHORT_WORDS and not any(
            a & b for a, b in zip(claims[:-1], cluster.claims[:-1], strict=True)
        ):
            return False
        rep_list = cluster.rep_key.split()
        dropped, content = dropped_words(rep_list, words)
        if dropped > 1 and dropped >= MAX_DROPPED_WORDS * content:
            return False
        query_list = query.split()
        if dropped and shifted_window(rep_list, query_list):
            return False
        return not substitutes(rep_list, query_list)

    def _record(
        self,
        state: _ObjectState,
        tip: Tip,
        key: str,
        *,
        cluster_id: str,
        representative: str,
        exact: bool,
        similarity: float,
        duplicate_of: str | None,
        sequence: int,
        known: _Cluster | None,
        bands: list[int] | None = None,
        claims: Claims | None = None,
    ) -> Cluster:
        """Apply one placement decision to the state; shared by live assignment and replay."""
        state.sequence = max(state.sequence, sequence)
        cluster = known
        if cluster is None and key:
            cluster = state.clusters.get(cluster_id)
        created = cluster is None
        if claims is None:
            claims = _key_claims(key, tip.evidence)
        if cluster is None:
            rep_key = key[:FUZZY_CHARS]
            cluster = _Cluster(
                cluster_id,
                representative,
                seq=state.clusters_made,
                rep_key=rep_key,
                claims=claims,
            )
            state.clusters_made += 1
            if key:
                state.clusters[cluster_id] = cluster
        else:
            state.clusters.move_to_end(cluster_id)
            if any(not c <= u for c, u in zip(claims, cluster.claims, strict=True)):
                cluster.claims = tuple(u | c for u, c in zip(cluster.claims, claims, strict=True))
        cluster.size += 1
        cluster.add_sender(_sender(tip), self.max_senders)
        if key:
            # A new cluster is always findable (on replay too, if its first tip was not stored).
            first = created
            variant = not exact and duplicate_of is not None and similarity < self.novelty
            if first or (variant and len(cluster.exemplars) < self.max_exemplars):
                self._index(state, cluster, tip, key, bands)
            self._note_exact(state, key, cluster, tip.tip_id)
            self._evict(state)
        return Cluster(
            cluster_id=cluster.cluster_id,
            representative_tip_id=cluster.representative_tip_id,
            size=cluster.size,
            distinct_senders=cluster.sender_count(),
            duplicate_of=duplicate_of,
            similarity=similarity,
            exact=exact,
            sequence=sequence,
        )

    def _index(
        self,
        state: _ObjectState,
        cluster: _Cluster,
        tip: Tip,
        key: str,
        bands: list[int] | None,
    ) -> None:
        if bands is None:
            bands = self._minhash.keys(key[:FUZZY_CHARS])
        # array('Q') packs the same native uint64 bytes as numpy, in half the time.
        exemplar = _Exemplar(cluster=cluster, bands=array("Q", bands).tobytes())
        cluster.exemplars.append(exemplar)
        state.indexed += 1
        for band in bands:
            bucket = state.buckets.get(band)
            if bucket is None:
                state.buckets[band] = exemplar
                continue
            # One exemplar per cluster per bucket is enough to find the cluster.
            if isinstance(bucket, _Exemplar):
                if bucket.cluster is not cluster:
                    state.buckets[band] = [bucket, exemplar]
                continue
            # A plain loop, not any(<generator>): this runs for 16 buckets of every variant.
            for other in bucket:
                if other.cluster is cluster:
                    break
            else:
                bucket.append(exemplar)
                if len(bucket) > self.bucket_cap:
                    del bucket[0]  # the oldest cluster in a hot bucket is in its other buckets

    def _note_exact(self, state: _ObjectState, key: str, cluster: _Cluster, tip_id: str) -> None:
        digest = _exact_hash(key)
        hit = state.exact.get(digest)
        if hit is not None and hit[0].alive:
            state.exact.move_to_end(digest)
            return
        state.exact[digest] = (cluster, tip_id)
        state.exact.move_to_end(digest)
        while len(state.exact) > self.max_exact_keys:
            state.exact.popitem(last=False)

    def _evict(self, state: _ObjectState) -> None:
        while state.indexed > self.max_indexed_tips:
            _, cluster = state.clusters.popitem(last=False)
            cluster.alive = False
            for exemplar in cluster.exemplars:
                for band in np.frombuffer(exemplar.bands, dtype=np.uint64).tolist():
                    bucket = state.buckets.get(band)
                    if bucket is None:
                        continue
                    if isinstance(bucket, _Exemplar):
                        if bucket is exemplar:
                            del state.buckets[band]
                        continue
                    for i, other in enumerate(bucket):
                        if other is exemplar:
                            del bucket[i]
                            break
                    if not bucket:
                        del state.buckets[band]
            state.indexed -= len(cluster.exemplars)
            cluster.exemplars.clear()
            # Exact keys still point at the dead cluster until they age out (up to
            # max_exact_keys of them): keep only its shell, never read again.
            cluster.rep_key, cluster.claims, cluster.senders = "", (), ""

    def _corroborate(self, state: _ObjectState, tip: Tip) -> tuple[Corroboration, ...]:
        sender = _sender(tip)
        out: list[Corroboration] = []
        for name, kind in _CORROBORATED:
            values: tuple[str, ...] = getattr(tip.evidence, name)
            for value in dict.fromkeys(values):
                item = (kind, value)
                senders = state.evidence.get(item)
                if senders is None:
                    senders = state.evidence[item] = set()
                    while len(state.evidence) > self.max_evidence:
                        state.evidence.popitem(last=False)
                else:
                    state.evidence.move_to_end(item)
                if len(senders) < self.max_senders:
                    senders.add(sender)
                out.append(Corroboration(kind=kind, value=value, senders=len(senders)))
        out.extend(self._corroborate_photos(state, tip, sender))
        return tuple(out)

    def _corroborate_photos(
        self, state: _ObjectState, tip: Tip, sender: str
    ) -> list[Corroboration]:
        out: list[Corroboration] = []
        for _, phash in _photo_hashes(tip):
            if state.picture is not None and near_identical(phash, state.picture):
                continue  # the object's own picture re-shared: not new evidence
            photo = state.photos.get(phash)
            if photo is None:
                # Linear in the distinct pictures of one object (bounded by max_photos): a
                # popcount each, and only tips with photos pay it.
                photo = next(
                    (p for p in reversed(state.photos.values()) if near_identical(phash, p.phash)),
                    None,
                )
            if photo is None:
                photo = state.photos[phash] = _Photo(phash=phash, value=f"{phash:016x}")
                while len(state.photos) > self.max_photos:
                    state.photos.popitem(last=False)
            else:
                state.photos.move_to_end(photo.phash)
            if len(photo.senders) < self.max_senders:
                photo.senders.add(sender)
            out.append(Corroboration(kind="photo", value=photo.value, senders=len(photo.senders)))
        return out

    def _remember(
        self,
        state: _ObjectState,
        tip_id: str,
        cluster: Cluster,
        corroboration: tuple[Corroboration, ...],
    ) -> None:
        if self.redelivery_window == 0:
            return
        state.recent[tip_id] = (cluster, corroboration)
        while len(state.recent) > self.redelivery_window:
            state.recent.popitem(last=False)

    def _replay(self, tip: ScoredTip) -> None:
        stored = tip.cluster
        if stored is None:
            # Stored before dedupe ran (should not happen): place it as a new tip.
            self.assign(tip)
            return
        state = self._state(tip.object_ref)
        key = tip_key(tip)
        sequence = stored.sequence or state.sequence + 1
        self._record(
            state,
            tip,
            key,
            cluster_id=stored.cluster_id,
            representative=stored.representative_tip_id,
            exact=stored.exact,
            similarity=stored.similarity,
            duplicate_of=stored.duplicate_of,
            sequence=sequence,
            known=None,
        )
        corroboration = self._corroborate(state, tip)
        known = state.clusters.get(stored.cluster_id)
        if known is not None and known.size < stored.size:
            # Earlier members missing from the store: trust the recorded size.
            known.size = stored.size
        self._remember(state, tip.tip_id, stored, tip.corroboration or corroboration)


def dedupe(tip: Tip, index: DedupeIndex) -> ScoredTip:
    """Return the tip as a ScoredTip carrying its cluster and evidence corroboration."""
    cluster, corroboration = index.assign(tip)
    return ScoredTip(
        **tip.model_dump(),
        cluster=cluster,
        corroboration=corroboration,
        reshared_pictures=index.reshared(tip),
    )
