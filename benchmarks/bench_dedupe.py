"""bench_dedupe: per-tip cost of the dedupe stage as one object's history grows, and its quality.

Cost: one object receives a synthetic history, fed through ``DedupeIndex.assign``. The default
(``--history alike``) is a press-release flood of alike tips: the appeal re-posted (RT, handle,
link), a few generic short texts, and above all one of ten sentences in five languages naming
one of 25 shops and 34 towns, with typos and greetings, so most tips share most of their words
with many earlier tips that make another claim. ``--history mixed`` is the older history: three
in four tips are variants of 40 common guesses in 10 languages, one in four is unique. At 1k,
10k, 100k and 1M earlier tips, 2000 probe tips from the same distribution go through the full
``dedupe`` stage (model in, ScoredTip out) and are timed one by one. Memory is the RSS growth
of the process (and, in a smaller separate run, tracemalloc's count of live bytes) divided by
tips fed and by indexed exemplars.

Quality: tests/data/dedupe/pairs.jsonl, each pair fed to a fresh index (a, then b); a pair is
predicted duplicate when b joins a's cluster. Reported per split, with the hand-annotated
evidence and with text only (as if evidence extraction found nothing).

Real-text quality (tests/data/dedupe_real/, see its README), evidence from extract_evidence:
SemEval-2015 PIT tweet pairs (all labelled pairs, and the "re-post" view: paraphrases that
share at least half their words, plus every non-paraphrase); each PIT sentence against a
re-post of itself (RT, @handles, t.co links, emoji added); a flood per PIT topic (all its
sentences into one object's index) with pairwise P/R through the clusters and the count of
members sharing under half their words with their cluster's representative; and minimal pairs
(real sentences in 28 languages with one name or number changed) that must never merge.

Memory at 1M: a 1M-tip flood fills the per-object caps long before its end, so the state it
holds is what the caps hold; ``capped_memory`` measures that at 1/20 of the caps (tracemalloc)
and scales it back, a figure that does not depend on finishing the 1M history.

Usage: python benchmarks/bench_dedupe.py [--sizes 1000,10000,100000,1000000] [--probes 2000]
       [--quick] [--history alike|mixed] [--capped-scale 20] [--cost-only | --quality-only]
(CPU µs is time.process_time per probe tip: the figure to trust on a shared machine.)
"""

from __future__ import annotations

import argparse
import gc
import gzip
import hashlib
import json
import random
import re
import statistics
import sys
import time
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from processors.dedupe import DedupeIndex, dedupe, tip_key
from processors.evidence import extract_evidence
from schemas import Evidence, Tip

PAIRS = Path(__file__).resolve().parent.parent / "tests" / "data" / "dedupe" / "pairs.jsonl"
REAL = Path(__file__).resolve().parent.parent / "tests" / "data" / "dedupe_real"
T0 = datetime(2025, 3, 1, tzinfo=UTC)

# (text, country, shop) — the few dozen guesses an appeal attracts, in several languages.
GUESSES: list[tuple[str, str, str]] = [
    ("Made in Poland", "PL", ""),
    ("Made in China, it says so on the label", "CN", ""),
    ("The bag is from Lidl, I have the same one", "", "Lidl"),
    ("I think the blanket is from IKEA", "SE", "IKEA"),
    ("This is a Primark t-shirt, sold in Ireland and the UK", "IE", "Primark"),
    ("Die Tasche gibt es bei Aldi Süd", "DE", "Aldi Süd"),
    ("Die Decke ist von Tchibo, hatte ich auch", "DE", "Tchibo"),
    ("Das Etikett ist von Rossmann", "DE", "Rossmann"),
    ("Hergestellt in Polen", "PL", ""),
    ("Ta torba jest z Biedronki", "PL", "Biedronka"),
    ("Koszulka jest z Pepco, widziałam ją w Krakowie", "PL", "Pepco"),
    ("Wyprodukowano w Polsce", "PL", ""),
    ("Ce sac vient de chez Carrefour", "FR", "Carrefour"),
    ("Je pense que le pull vient de Decathlon", "FR", "Decathlon"),
    ("Fabriqué en France, c'est écrit sur l'étiquette", "FR", ""),
    ("Esta camiseta es de Primark, la vi en Madrid", "ES", "Primark"),
    ("Esa manta es de El Corte Inglés", "ES", "El Corte Inglés"),
    ("Questa coperta è della Coop", "IT", "Coop"),
    ("La borsa è di OVS, l'ho vista a Milano", "IT", "OVS"),
    ("Het is een tas van Action", "NL", "Action"),
    ("Het etiket komt van de Hema", "NL", "HEMA"),
    ("Mikina je z Pepco, prodává se v Česku", "CZ", "Pepco"),
    ("Väskan är från Clas Ohlson", "SE", "Clas Ohlson"),
    ("A táska a Tescóból van", "HU", "Tesco"),
    ("Geanta este de la Kaufland", "RO", "Kaufland"),
    ("The shoes are from Deichmann, Germany", "DE", "Deichmann"),
    ("The jacket is from the 2019 H&M collection", "", "H&M"),
    ("I saw this exact bag in a Lidl in Graz last year", "AT", "Lidl"),
    ("The teddy bear is sold at Tesco in the UK", "GB", "Tesco"),
    ("My daughter has the same jacket from C&A", "", "C&A"),
    ("It is a Lupilu shirt from Lidl", "", "Lidl"),
    ("The pattern is typical for Zeeman children's clothes", "NL", "Zeeman"),
    ("The towel has the Jysk logo", "DK", "JYSK"),
    ("Looks like a souvenir from Croatia", "HR", ""),
    ("The label is in Czech, so probably from Czechia", "CZ", ""),
    ("I bought the same one in Kaufland in Brno", "CZ", "Kaufland"),
    ("It looks like the kids range from Kiabi", "FR", "Kiabi"),
    ("The backpack has a Quechua label", "FR", "Decathlon"),
    ("Sold at Smyths toy stores in Ireland", "IE", "Smyths"),
    ("The hat was sold in Penneys in Ireland", "IE", "Primark"),
]
GREETINGS = ["Hello, ", "Hi! ", "Hallo, ", "Bonjour, ", "Dzień dobry, ", "URGENT: ", "Re: ", ""]
SIGN_OFFS = [" Good luck.", " Hope it helps!", " Viele Grüße", " Merci", " Pozdrawiam", "", ""]
SYLLABLES = tuple(f"{c}{v}" for c in "kmrtsnpdvlbzfg" for v in "aeiou")
LETTERS = "abcdefghijklmnoprstuvwyz"


def _typo(text: str, rng: random.Random) -> str:
    chars = list(text)
    for _ in range(rng.randint(1, 2)):
        i = rng.randrange(len(chars))
        op = rng.randrange(3)
        if op == 0:
            chars[i] = rng.choice(LETTERS)
        elif op == 1 and len(chars) > 5:
            del chars[i]
        else:
            chars.insert(i, rng.choice(LETTERS))
    return "".join(chars)


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))


@dataclass(frozen=True, slots=True)
class HistoryTip:
    """The fields ``DedupeIndex.assign`` reads: a cheap stand-in for 1M validated ``Tip``s, so
    the benchmark's history build measures the index and not pydantic."""

    tip_id: str
    body: str
    sender_key: str | None
    evidence: Evidence
    object_ref: str = "obj-1"
    subject: str = ""
    attachments: tuple[Any, ...] = ()


_EVIDENCE: dict[tuple[str, str], Evidence] = {}


def _evidence(country: str, shop: str) -> Evidence:
    key = (country, shop)
    if key not in _EVIDENCE:
        _EVIDENCE[key] = Evidence(
            countries=(country,) if country else (), shops=(shop,) if shop else ()
        )
    return _EVIDENCE[key]


def synthetic_fields(i: int, rng: random.Random) -> HistoryTip:
    """One tip of the synthetic history: a variant of a common guess, or a unique tip."""
    if rng.random() < 0.75:
        text, country, shop = GUESSES[min(int(rng.paretovariate(1.2)) - 1, len(GUESSES) - 1)]
        r = rng.random()
        if r < 0.3:
            text = _typo(text, rng)
        elif r < 0.55:
            text = rng.choice(GREETINGS) + text + rng.choice(SIGN_OFFS)
        elif r < 0.7:
            text = text.lower() + rng.choice(["!", "!!", ".", " ?"])
        # The evidence stage misses some mentions (typos, unknown spellings).
        evidence = _evidence(
            country if rng.random() < 0.8 else "", shop if rng.random() < 0.8 else ""
        )
    else:
        words = [_word(rng) for _ in range(rng.randint(4, 14))]
        text = f"I think it is {' '.join(words)} number {rng.randrange(10**5)}"
        evidence = _evidence("", "")
    sender = None if rng.random() < 0.2 else f"k{int(rng.paretovariate(0.6)) % 200_000}"
    return HistoryTip(tip_id=f"t{i}", body=text, sender_key=sender, evidence=evidence)


# A press-release flood: one object's tips are alike. They re-post the appeal, and they
# name a shop and a town in the same few sentences, so most of them share most of their words
# (and LSH buckets) with hundreds of earlier tips that make another claim and must stay apart.
APPEAL = "Police ask: do you know where this bag comes from? Please share"
FRAMES = [
    "I saw this exact bag in a {shop} in {town} last year",
    "The bag is sold at {shop} in {town}, I have the same one",
    "My daughter has the same bag, we bought it at {shop} in {town}",
    "I am sure this bag is from {shop}, they have it in {town}",
    "This bag was on sale at {shop} {town} in {year}",
    "Saw the same bag in {shop} in {town} two weeks ago",
    "Die Tasche gab es {year} bei {shop} in {town}",
    "Ta torba jest z {shop}, widziałam ją w {town}",
    "Ce sac vient de chez {shop} à {town}",
    "Esta bolsa es de {shop}, la vi en {town}",
]
SHOPS = [
    "Lidl", "Aldi", "Kaufland", "Tesco", "Primark", "Pepco", "Biedronka", "Carrefour",
    "Spar", "Billa", "Penny", "Netto", "Action", "HEMA", "Zeeman", "KiK", "Takko",
    "Rossmann", "dm", "Müller", "Deichmann", "C&A", "H&M", "Tchibo", "Decathlon",
]  # fmt: skip
TOWNS = [
    "Graz", "Linz", "Vienna", "Brno", "Prague", "Krakow", "Warsaw", "Berlin", "Munich",
    "Hamburg", "Cologne", "Dublin", "Cork", "Leeds", "Madrid", "Lyon", "Milan", "Turin",
    "Gdansk", "Poznan", "Lodz", "Ostrava", "Salzburg", "Innsbruck", "Bratislava", "Kosice",
    "Budapest", "Debrecen", "Zagreb", "Split", "Seville", "Lille", "Porto", "Ghent",
]  # fmt: skip
GENERIC = ["I recognise it", "no idea, sorry", "I need more information", "Seen it somewhere"]


def alike_fields(i: int, rng: random.Random) -> HistoryTip:
    """One tip of a press-release flood: the appeal re-posted, or a shop-and-town claim."""
    r = rng.random()
    shop = town = ""
    if r < 0.15:
        tag = f"{rng.randrange(10**6):x}"
        text = f"RT @user{rng.randrange(5000)}: {APPEAL} https://t.co/{tag}"
    elif r < 0.2:
        text = rng.choice(GENERIC)
    else:
        shop, town = rng.choice(SHOPS), rng.choice(TOWNS)
        text = rng.choice(FRAMES).format(shop=shop, town=town, year=rng.randrange(2005, 2025))
        r = rng.random()
        if r < 0.3:
            text = _typo(text, rng)
        elif r < 0.55:
            text = rng.choice(GREETINGS) + text + rng.choice(SIGN_OFFS)
    # The evidence stage misses some mentions (typos, unknown spellings).
    evidence = _city_evidence(
        shop if rng.random() < 0.8 else "", town if rng.random() < 0.8 else ""
    )
    sender = None if rng.random() < 0.2 else f"k{int(rng.paretovariate(0.6)) % 200_000}"
    return HistoryTip(tip_id=f"t{i}", body=text, sender_key=sender, evidence=evidence)


_CITY_EVIDENCE: dict[tuple[str, str], Evidence] = {}


def _city_evidence(shop: str, town: str) -> Evidence:
    key = (shop, town)
    if key not in _CITY_EVIDENCE:
        _CITY_EVIDENCE[key] = Evidence(
            shops=(shop,) if shop else (), cities=(town,) if town else ()
        )
    return _CITY_EVIDENCE[key]


HISTORIES = {"alike": alike_fields, "mixed": synthetic_fields}


def as_tip(h: HistoryTip) -> Tip:
    """A validated ``Tip`` with a history tip's fields, for the timed probes."""
    return Tip(
        tip_id=h.tip_id,
        channel="web",
        received_at=T0,
        object_ref=h.object_ref,
        body=h.body,
        sender_key=h.sender_key,
        evidence=h.evidence,
    )


def synthetic_tip(i: int, rng: random.Random) -> Tip:
    """A validated ``Tip`` from the same distribution, for the timed probes."""
    return as_tip(synthetic_fields(i, rng))


def _rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096


def cost_table(sizes: list[int], probes: int, history: str = "alike") -> None:
    make = HISTORIES[history]
    rng = random.Random(1)
    index = DedupeIndex()
    fed = 0
    build_seconds = 0.0
    rss0 = _rss_bytes()
    rows = []
    all_probe_times: list[float] = []
    cpu_means: list[float] = []
    # Rows are printed as they are measured: the 1M history takes long on a shared machine.
    print(
        f"\nper-tip dedupe time, one object, {history} history, {probes} probe tips per size "
        "(full stage call)"
    )
    print(
        f"{'earlier tips':>12} {'CPU µs':>7} {'mean µs':>8} {'p50 µs':>7} {'p99 µs':>7} "
        f"{'exemplars':>9} "
        f"{'clusters':>8} {'RSS MiB':>8} {'B/tip fed':>9} {'B/exemplar':>10}",
        flush=True,
    )
    for size in sizes:
        start = time.perf_counter()
        while fed < size:
            index.assign(make(fed, rng))  # type: ignore[arg-type]
            fed += 1
        build_seconds += time.perf_counter() - start
        probe_tips = [as_tip(make(fed + j, rng)) for j in range(probes)]
        gc.collect()
        times = []
        cpu = time.process_time()
        for tip in probe_tips:
            t = time.perf_counter()
            dedupe(tip, index)
            times.append(time.perf_counter() - t)
        cpu = (time.process_time() - cpu) / len(probe_tips)
        fed += probes
        all_probe_times += times
        times.sort()
        stats = index.stats()
        rss = _rss_bytes() - rss0
        cpu_means.append(cpu * 1e6)
        rows.append(
            (
                size,
                statistics.fmean(times) * 1e6,
                times[len(times) // 2] * 1e6,
                times[int(len(times) * 0.99)] * 1e6,
                stats["exemplars"],
                stats["clusters"],
                rss / 2**20,
                rss / fed,
                rss / max(1, stats["exemplars"]),
            )
        )
        r, cpu_us = rows[-1], cpu_means[-1]
        print(
            f"{r[0]:>12,} {cpu_us:>7.1f} {r[1]:>8.1f} {r[2]:>7.1f} {r[3]:>7.1f} {r[4]:>9,} "
            f"{r[5]:>8,} {r[6]:>8.1f} {r[7]:>9.0f} {r[8]:>10.0f}",
            flush=True,
        )
    base, top = rows[0][1], rows[-1][1]
    print(
        f"overall: history ingest {build_seconds / max(1, fed) * 1e6:.1f} µs/tip "
        f"(assign only, {fed:,} tips); "
        f"probes {statistics.fmean(all_probe_times) * 1e6:.1f} µs/tip; "
        f"largest/smallest mean = {top / base:.2f}x, CPU {cpu_means[-1] / cpu_means[0]:.2f}x "
        f"(goal <= 2x), largest mean {top / 1000:.3f} ms (goal <= 1 ms); "
        f"RSS growth {rows[-1][6]:.0f} MiB at {fed:,} tips (goal <= 1024 MiB at 1M)"
    )


def traced_memory(n: int, history: str = "alike") -> None:
    """Live Python bytes per fed tip and per exemplar, from tracemalloc (smaller run: slow)."""
    rng = random.Random(2)
    tips = [HISTORIES[history](i, rng) for i in range(n)]
    tracemalloc.start()
    index = DedupeIndex()
    before = tracemalloc.get_traced_memory()[0]
    for tip in tips:
        index.assign(tip)  # type: ignore[arg-type]
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    stats = index.stats()
    print(
        f"tracemalloc, {n:,} tips into a fresh index: {used / 2**20:.1f} MiB live, "
        f"{used / n:.0f} B per tip fed, {used / max(1, stats['exemplars']):.0f} B per exemplar "
        f"({stats['exemplars']:,} exemplars, {stats['exact_keys']:,} exact keys)"
    )


def capped_memory(scale: int, history: str = "alike") -> None:
    """Live state of one object held at the default caps, from a run at 1/``scale`` of them.

    A 1M-tip history reaches both caps (exemplars, exact keys) long before its end, so its
    state is what the caps hold; the small run fills caps ``scale`` times smaller and the
    figure is multiplied back (fixed costs such as the stop-word table are multiplied too,
    so it is an upper bound).
    """
    defaults = DedupeIndex()
    exemplars = defaults.max_indexed_tips // scale
    exact = defaults.max_exact_keys // scale
    n = 5 * exact  # a few times the exact-key cap: both caps are full and churning
    rng = random.Random(3)
    make = HISTORIES[history]
    index = DedupeIndex(max_indexed_tips=exemplars, max_exact_keys=exact)
    index.assign(make(0, rng))  # type: ignore[arg-type]
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(1, n):
        index.assign(make(i, rng))  # type: ignore[arg-type]
    gc.collect()
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    print(
        f"tracemalloc, state at 1/{scale} of the default caps ({exemplars:,} exemplars, "
        f"{exact:,} exact keys, {n:,} tips): {used / 2**20:.1f} MiB live; x{scale} = "
        f"{scale * used / 2**20:.0f} MiB for one object at the default caps, the most a 1M "
        "flood can hold (goal <= 1024 MiB RSS)"
    )


def quality() -> None:
    pairs = [json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines() if line]
    print(f"\npairwise quality on {PAIRS.name} ({len(pairs)} pairs)")
    print(f"{'split':>8} {'evidence':>10} {'pairs':>5} {'P':>6} {'R':>6} {'F1':>6}  errors")
    for split in ("dev", "heldout", "all"):
        chosen = [p for p in pairs if split in ("all", p["split"])]
        for mode in ("extracted", "annotated", "text only"):
            tp = fp = fn = 0
            errors: list[str] = []
            for p in chosen:
                index = DedupeIndex()
                outs = []
                for n, side in enumerate("ab"):
                    evidence = (
                        Evidence(**p[f"{side}_evidence"]) if mode == "annotated" else Evidence()
                    )
                    tip = Tip(
                        tip_id=f"p{n}",
                        channel="web",
                        received_at=T0,
                        object_ref="o",
                        body=p[side],
                        sender_key=f"s{n}",
                        evidence=evidence,
                    )
                    if mode == "extracted":  # what the pipeline really gives dedupe
                        tip = extract_evidence(tip)
                    outs.append(dedupe(tip, index).cluster)
                same = outs[0] is not None and outs[1] is not None
                same = same and outs[0].cluster_id == outs[1].cluster_id  # type: ignore[union-attr]
                if same and p["duplicate"]:
                    tp += 1
                elif same:
                    fp += 1
                    errors.append(f"FP {p['id']} ({p['kind']})")
                elif p["duplicate"]:
                    fn += 1
                    errors.append(f"FN {p['id']} ({p['kind']})")
            prec = tp / (tp + fp) if tp + fp else 1.0
            rec = tp / (tp + fn) if tp + fn else 1.0
            f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
            shown = ", ".join(errors) if mode != "text only" else f"{len(errors)} errors"
            print(
                f"{split:>8} {mode:>10} {len(chosen):>5} {prec:>6.3f} {rec:>6.3f} {f1:>6.3f}  "
                f"{shown}"
            )
    print(
        "goal: P >= 0.95, R >= 0.90 — 'extracted' is the pipeline's real figure "
        "(evidence from extract_evidence); 'annotated' assumes a perfect extractor"
    )


def _real_tip(n: int, body: str, obj: str = "o") -> Tip:
    tip = Tip(
        tip_id=f"r{n}",
        channel="social",
        received_at=T0,
        object_ref=obj,
        body=body,
        sender_key=f"s{n}",
    )
    return extract_evidence(tip)


def _merged(a: str, b: str) -> bool:
    index = DedupeIndex()
    first = dedupe(_real_tip(0, a), index).cluster
    second = dedupe(_real_tip(1, b), index).cluster
    return bool(first and second and first.cluster_id == second.cluster_id)


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.casefold()))


def _dice(a: set[str], b: set[str]) -> float:
    return 2 * len(a & b) / (len(a) + len(b)) if a and b else 0.0


def _pr(tp: int, fp: int, fn: int) -> tuple[float, float]:
    return (tp / (tp + fp) if tp + fp else 1.0), (tp / (tp + fn) if tp + fn else 1.0)


_EMOJI = ("\U0001f602", "\U0001f64f", "\u2764\ufe0f", "\U0001f525", "\U0001f440")


def _repost(text: str) -> str:
    """A re-post as social media makes it: RT and handles, a fresh short link, emoji."""
    h = hashlib.sha256(text.encode()).digest()
    handle, other = f"user{h[0]}{h[1]}", f"news_{h[2]}"
    link = f"https://t.co/{h[3:8].hex()}{h[8] % 10}"
    emoji = _EMOJI[h[9] % len(_EMOJI)]
    shapes = (
        f"RT @{handle}: {text}",
        f"{text} {link}",
        f"{text} {emoji}{emoji}",
        f"RT @{handle}: {text} {link} via @{other}",
    )
    return shapes[h[10] % len(shapes)]


def _read(name: str) -> list[dict[str, Any]]:
    path = REAL / name
    opener = gzip.open if name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:  # type: ignore[operator]
        return [json.loads(line) for line in fh if line.strip()]


def _pairs_view(name: str, rows: list[dict[str, Any]]) -> None:
    """Each labelled pair into a fresh index: P/R on all pairs and on the re-post view."""
    print(
        f"\nreal text: {name} pairs, each into a fresh index (dev may be tuned on; heldout never)"
    )
    print(f"{'split':>8} {'view':>26} {'pairs':>6} {'P':>6} {'R':>6}")
    for split in ("dev", "heldout"):
        labelled = [p for p in rows if p["split"] == split and p["duplicate"] is not None]
        merged = {p["id"]: _merged(p["a"], p["b"]) for p in labelled}
        for view in ("all paraphrases", "re-posts (>= 0.8 words)", "re-posts (>= half words)"):
            floor = {"all paraphrases": 0.0, "re-posts (>= 0.8 words)": 0.8}.get(view, 0.5)
            tp = fp = fn = n = 0
            for p in labelled:
                if p["duplicate"] and _dice(_words(p["a"]), _words(p["b"])) < floor:
                    continue
                n += 1
                same = merged[p["id"]]
                tp += same and p["duplicate"]
                fp += same and not p["duplicate"]
                fn += (not same) and p["duplicate"]
            prec, rec = _pr(tp, fp, fn)
            print(f"{split:>8} {view:>26} {n:>6} {prec:>6.3f} {rec:>6.3f}")
        sentences = sorted({s for p in rows if p["split"] == split for s in (p["a"], p["b"])})
        found = sum(_merged(s, _repost(s)) for s in sentences)
        print(
            f"{split:>8} {'sentence vs its re-post':>26} {len(sentences):>6} {'':>6} "
            f"{found / len(sentences):>6.3f}   (RT, @handles, t.co links, emoji added)"
        )


def _flood_view(name: str, rows: list[dict[str, Any]], group: str) -> None:
    """Every sentence of a group (topic, news link) into one object's index, in file order."""
    print(f"\nreal text: {name}, a flood per {group} (all its sentences into one object)")
    print(
        f"{'split':>8} {'floods':>6} {'tips':>6} {'clusters':>8} {'largest':>7} {'P':>6} "
        f"{'R':>6} {'R >=0.8':>7} {'R >=half':>8} {'< half rep words':>16} {'(key)':>5} "
        f"{'min overlap':>11}"
    )
    for split in ("dev", "heldout"):
        chosen = [p for p in rows if p["split"] == split]
        floods: dict[str, dict[str, None]] = {}
        for p in chosen:
            floods.setdefault(p[group], {}).update({p["a"]: None, p["b"]: None})
        where: dict[tuple[str, str], str] = {}
        sizes: dict[str, int] = {}
        reps: dict[str, str] = {}
        below = below_key = n = 0
        overlap = 1.0
        rep_keys: dict[str, set[str]] = {}
        for key, texts in floods.items():
            index = DedupeIndex()
            for text in texts:
                obj = hashlib.sha256(key.encode()).hexdigest()[:16]
                out = dedupe(_real_tip(n, text, obj=obj), index).cluster
                n += 1
                assert out is not None
                where[(key, text)] = out.cluster_id
                sizes[out.cluster_id] = out.size
                rep = reps.setdefault(out.cluster_id, text)
                dice = _dice(_words(text), _words(rep))
                below += dice < 0.5
                overlap = min(overlap, dice)
                # What dedupe compares: the key's words (links, handles, RT, emoji gone).
                words = set(tip_key(_real_tip(0, text)).split())
                if out.cluster_id in rep_keys:  # a representative is not its own member
                    below_key += _dice(words, rep_keys[out.cluster_id]) < 0.5
                else:
                    rep_keys[out.cluster_id] = words
        counts = {0.0: [0, 0, 0], 0.8: [0, 0, 0], 0.5: [0, 0, 0]}  # tp, fp, fn
        for p in chosen:
            if p["duplicate"] is None:
                continue
            same = where[(p[group], p["a"])] == where[(p[group], p["b"])]
            dice = _dice(_words(p["a"]), _words(p["b"]))
            for floor, c in counts.items():
                if p["duplicate"] and dice < floor:
                    continue
                c[0] += same and p["duplicate"]
                c[1] += same and not p["duplicate"]
                c[2] += (not same) and p["duplicate"]
        prec, rec = _pr(*counts[0.0])
        print(
            f"{split:>8} {len(floods):>6} {n:>6} {len(sizes):>8} {max(sizes.values()):>7} "
            f"{prec:>6.3f} {rec:>6.3f} {_pr(*counts[0.8])[1]:>7.3f} {_pr(*counts[0.5])[1]:>8.3f} "
            f"{below:>16} {below_key:>5} {overlap:>11.2f}"
        )
    print(
        "  < half rep words: members sharing under half their words (Dice) with their cluster's"
        " representative, on the raw text's words and on the key's (what dedupe compares);"
        " min overlap: the lowest raw-word Dice of any member with its representative"
    )


def real_quality() -> None:
    pit = _read("pit2015.jsonl.gz")
    url = _read("url_corpus.jsonl.gz")
    _pairs_view("Twitter URL Corpus (tweets sharing a news link)", url)
    _flood_view("Twitter URL Corpus", url, "link")
    _pairs_view("SemEval-2015 PIT (tweets on one trending topic)", pit)
    _flood_view("SemEval-2015 PIT", pit, "topic_id")
    minimal = _read("minimal_pairs.jsonl")
    print("\nreal text: minimal pairs (one name or number changed), none may merge")
    for split in ("dev", "heldout"):
        chosen = [p for p in minimal if p["split"] == split]
        wrong = [p for p in chosen if _merged(p["a"], p["b"])]
        langs = len({p["lang"] for p in chosen})
        kinds: dict[str, int] = {}
        for p in wrong:
            kinds[p["kind"]] = kinds.get(p["kind"], 0) + 1
        print(
            f"{split:>8}: {len(wrong)} of {len(chosen)} merged ({langs} languages) "
            f"{kinds or ''} {' '.join(p['id'] for p in wrong[:12])}"
        )
    print(
        "goal on real re-posts: P >= 0.95, R >= 0.90; 0 members under half their "
        "representative's words; 0 minimal pairs merged"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    parser.add_argument(
        "--quick", action="store_true", help="sizes 1k,10k,100k and 500 probes (no 1M history)"
    )
    parser.add_argument("--probes", type=int, default=2000)
    parser.add_argument(
        "--history",
        choices=sorted(HISTORIES),
        default="alike",
        help="alike: a press-release flood (default); mixed: common guesses and unique tips",
    )
    parser.add_argument("--traced", type=int, default=20_000, help="tips for the tracemalloc run")
    parser.add_argument(
        "--capped-scale", type=int, default=20, help="1/N of the default caps (0: skip)"
    )
    parser.add_argument("--cost-only", action="store_true", help="skip the quality tables")
    parser.add_argument("--quality-only", action="store_true", help="skip cost and memory")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.probes = "1000,10000,100000", 500
    if not args.cost_only:
        quality()
        real_quality()
    if args.quality_only:
        return
    cost_table([int(s) for s in args.sizes.split(",")], args.probes, args.history)
    if args.traced:
        traced_memory(args.traced, args.history)
    if args.capped_scale:
        capped_memory(args.capped_scale, args.history)


if __name__ == "__main__":
    main()
