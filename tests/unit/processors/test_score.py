"""score: reasons that add up, every negative signal, SenderActivity, and the quality gate."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processors.activity import ActivityLimits, SenderActivity
from processors.evidence import extract_evidence
from processors.score import BASE, SCORE_VERSION, score, specificity
from schemas import Cluster, Corroboration, ScoredTip, Tip
from tipline.core.settings import Settings

RECEIVED = datetime(2023, 6, 1, 12, 0, tzinfo=UTC)
DATA = Path(__file__).resolve().parents[2] / "data" / "scoring" / "tips.jsonl"


def _scored(
    body: str,
    *,
    tip_id: str = "t-1",
    sender: str | None = "s-1",
    at: datetime = RECEIVED,
    cluster: Cluster | None = None,
    corroboration: tuple[Corroboration, ...] = (),
) -> ScoredTip:
    tip = Tip(tip_id=tip_id, channel="web", received_at=at, body=body, sender_key=sender)
    tip = extract_evidence(tip)
    return ScoredTip(**tip.model_dump(), cluster=cluster, corroboration=corroboration)


def _score(body: str, **kw) -> ScoredTip:  # type: ignore[no-untyped-def]
    return score(_scored(body, **kw), SenderActivity())


def _features(tip: ScoredTip) -> dict[str, int]:
    return {r.feature: r.weight for r in tip.reasons}


SPECIFIC = (
    "The bag is a Biedronka own brand, sold only in Poland 2019–2021. I bought the same one "
    "in Kraków, the label has the same green stripe."
)


@pytest.mark.parametrize(
    "body",
    [
        SPECIFIC,
        "looks like IKEA",
        "",
        "lol",
        "https://bit.ly/abc",
        "Die Tasche ist von Rossmann, ich habe sie 2020 in Hannover gekauft.",
        "Scheiße, ihr Wichser",
        "EAN 4006381333931",
    ],
)
def test_reasons_add_up_to_the_score_before_clamping(body: str) -> None:
    tip = _score(body)
    total = sum(r.weight for r in tip.reasons)
    assert tip.score == max(0, min(100, total))
    assert tip.reasons[0].feature == "base"
    assert tip.reasons[0].weight == BASE
    assert all(r.weight != 0 for r in tip.reasons)
    assert all(str(r).endswith(f"{r.weight:+d}") for r in tip.reasons)


def test_score_version_is_set() -> None:
    tip = _score("anything")
    assert tip.score_version == SCORE_VERSION
    assert SCORE_VERSION


def test_specific_lead_reasons_are_readable() -> None:
    tip = _score(SPECIFIC)
    texts = [str(r) for r in tip.reasons]
    assert any(t.startswith("names a shop chain: Biedronka (only in PL) +") for t in texts), texts
    assert any(t.startswith("country: PL +") for t in texts), texts
    assert {"shop", "country", "city", "year", "firsthand", "detail"} <= set(_features(tip))
    assert tip.score >= 70


def test_specific_beats_vague_beats_useless() -> None:
    specific = _score(SPECIFIC).score
    vague = _score("Maybe it is from Poland, the letters look like that.").score
    useless = _score("no idea, good luck").score
    assert specific > vague > useless


@pytest.mark.parametrize(
    ("body", "feature"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("Lidl", None),  # one word, but a shop name: not penalised as one-word
        ("hmm", "one_word"),
        ("no idea", "very_short"),
        ("https://bit.ly/3xYzAbC", "link_only"),
        (
            "see https://a.example.com/x https://b.example.net/y https://c.example.org/z",
            "many_links",
        ),
        ("www.spam.example.com www.spam.example.com", "repeated_links"),
        ("BUY NOW BUY NOW BUY NOW BUY NOW BUY NOW BUY NOW", "repetitive"),
        ("this is bullshit", "abuse"),
        ("kurwa co to za pytanie", "abuse"),
        ("vaffanculo a tutti", "abuse"),
        ("hijos de puta", "abuse"),
        ("хаха смешно", "joke"),
        ("jajajaja es del Chavo", "joke"),
        ("that's obviously from Hogwarts lol", "joke"),
        ("It is so sad 😂", "joke"),
        ("Wie ist das Wetter morgen?", "unrelated"),
        ("My cat likes the sun very much.", "unrelated"),
        ("I think it looks like IKEA", "hedge"),
        ("Vielleicht von IKEA", "hedge"),
    ],
)
def test_each_negative_signal(body: str, feature: str | None) -> None:
    tip = _score(body)
    negative = {f for f, w in _features(tip).items() if w < 0}
    if feature is None:
        assert "one_word" not in negative
    else:
        assert feature in negative, [str(r) for r in tip.reasons]


def test_link_only_to_a_shop_page_is_penalised_less() -> None:
    shop = _features(_score("https://www.lidl.de/p/kinder-pyjama/p100123"))
    other = _features(_score("https://bit.ly/3xYzAbC"))
    assert other["link_only"] < shop["link_only"] < 0
    assert "product_url" in shop


def test_exact_copy_of_a_large_cluster_is_spam() -> None:
    big = Cluster(
        cluster_id="c-1", representative_tip_id="t-0", size=40, distinct_senders=30, exact=True
    )
    small = big.model_copy(update={"size": 2, "distinct_senders": 2})
    assert "copy" in _features(_score("Looks like Lidl to me", cluster=big))
    assert "copy" not in _features(_score("Looks like Lidl to me", cluster=small))
    assert "same_tip" in _features(_score("Looks like Lidl to me", cluster=small))


@pytest.mark.parametrize(("senders", "weight"), [(1, None), (2, 5), (3, 10), (4, 15), (50, 15)])
def test_independent_tipsters_agreeing(senders: int, weight: int | None) -> None:
    corroboration = (Corroboration(kind="shop", value="Rossmann", senders=senders),)
    tip = _score("Rossmann, I am sure", corroboration=corroboration)
    agree = [r for r in tip.reasons if r.feature == "agree"]
    if weight is None:
        assert not agree
    else:
        assert agree[0].weight == weight
        shown = "at least 4" if senders >= 4 else str(senders)
        assert agree[0].text == f"{shown} independent tipsters agree on shop Rossmann"


def test_burst_from_one_sender_lowers_the_score() -> None:
    activity = SenderActivity(ActivityLimits(window=timedelta(minutes=10), burst=3))
    weights = []
    for i in range(6):
        tip = _scored("Rossmann 2020", tip_id=f"t-{i}", at=RECEIVED + timedelta(minutes=i))
        weights.append(_features(score(tip, activity)).get("burst", 0))
    assert weights[:3] == [0, 0, 0]
    assert weights[3] < 0
    assert weights[3] > weights[4] > weights[5]
    later = _scored("Rossmann 2020", tip_id="t-late", at=RECEIVED + timedelta(hours=2))
    assert "burst" not in _features(score(later, activity))


def test_activity_window_uses_received_at() -> None:
    activity = SenderActivity(ActivityLimits(window=timedelta(minutes=30)))
    counts = [
        activity.observe(_scored("x", tip_id=f"t-{i}", at=RECEIVED + timedelta(minutes=10 * i)))
        for i in range(6)
    ]
    # Tips at 0, 10, ..., 50 minutes; a 30-minute window holds the tip itself and up to 3 before.
    assert counts == [1, 2, 3, 4, 4, 4]


def test_activity_counts_a_replayed_tip_once() -> None:
    activity = SenderActivity()
    tip = _scored("x", tip_id="same")
    assert activity.observe(tip) == 1
    assert activity.observe(tip) == 1


def test_activity_without_sender_key() -> None:
    activity = SenderActivity()
    for i in range(10):
        assert activity.observe(_scored("x", tip_id=f"t-{i}", sender=None)) == 1
    assert len(activity) == 0


def test_activity_is_bounded() -> None:
    activity = SenderActivity(ActivityLimits(max_senders=3, max_events=4))
    for i in range(10):
        activity.observe(_scored("x", tip_id=f"a-{i}", sender="flood", at=RECEIVED))
    assert activity.observe(_scored("x", tip_id="a-last", sender="flood", at=RECEIVED)) == 4
    for s in range(5):
        activity.observe(_scored("x", tip_id=f"o-{s}", sender=f"other-{s}"))
    assert len(activity) == 3


def test_activity_limits_from_settings() -> None:
    limits = ActivityLimits.from_settings(
        Settings(sender_activity_window_seconds=120, sender_activity_burst=2)
    )
    assert limits.window == timedelta(minutes=2)
    assert limits.burst == 2


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_any_text_scores_in_range_with_consistent_reasons(body: str) -> None:
    tip = _score(body)
    assert 0 <= tip.score <= 100
    assert tip.score == max(0, min(100, sum(r.weight for r in tip.reasons)))
    assert len({r.feature for r in tip.reasons}) == len(tip.reasons)


# --- quality gate: ranking on the labelled set (tests/data/scoring/README.md) ---


def _auc(positives: list[int], negatives: list[int]) -> float:
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


def _labelled() -> list[dict[str, str]]:
    return [json.loads(line) for line in DATA.read_text("utf-8").splitlines() if line.strip()]


def test_labelled_set_is_big_and_varied_enough() -> None:
    rows = _labelled()
    assert len(rows) >= 200
    assert len({r["language"] for r in rows}) >= 6
    assert {r["label"] for r in rows} == {"useful", "somewhat", "useless"}
    assert {r["split"] for r in rows} == {"tune", "heldout"}


@pytest.mark.parametrize("split", ["all", "heldout"])
def test_quality_gate_auc_and_top_precision(split: str) -> None:
    rows = [r for r in _labelled() if split == "all" or r["split"] == split]
    activity = SenderActivity()
    scored = []
    for i, row in enumerate(rows):
        tip = _scored(row["body"], tip_id=row["id"], sender=f"s-{i}")
        scored.append((score(tip, activity).score, row["label"]))
    useful = [s for s, label in scored if label == "useful"]
    useless = [s for s, label in scored if label == "useless"]
    assert _auc(useful, useless) >= 0.9
    top = sorted(scored, key=lambda s: -s[0])[: max(1, len(scored) // 10)]
    assert sum(label == "useful" for _, label in top) / len(top) >= 0.8


# --- specificity: evidence weighs by how far it narrows the search ---


@pytest.mark.parametrize(
    ("narrow", "wide"),
    [
        ("I bought it at Żabka.", "I bought it at Lidl."),  # PL only vs 30 countries
        ("I bought it at Magnit.", "I bought it at IKEA."),  # 6 vs 31 countries
        ("I bought it at Rossmann.", "I bought it at Adidas."),  # 7 vs worldwide
        ("Bought at Żabka, it is a Coca-Cola bag.", "Bought at KFC, it is a Coca-Cola bag."),
    ],
)
def test_a_chain_in_few_countries_outweighs_one_sold_widely(narrow: str, wide: str) -> None:
    narrow_tip, wide_tip = _score(narrow), _score(wide)
    assert _features(narrow_tip)["shop"] > _features(wide_tip)["shop"]
    assert narrow_tip.score > wide_tip.score


def test_reasons_say_how_far_a_claim_narrows() -> None:
    texts = [r.text for r in _score("It is a Coca-Cola bag from Żabka.").reasons]
    assert "names a shop chain: Żabka (only in PL)" in texts
    assert "names a brand: Coca-Cola (worldwide)" in texts
    texts = [r.text for r in _score("I bought it at IKEA.").reasons]
    assert any(t.startswith("names a shop chain: IKEA (sold in ") for t in texts), texts


def test_specificity_falls_with_the_number_of_countries() -> None:
    values = [specificity(n) for n in (1, 2, 7, 30, 44, 250, 1000)]
    assert values == sorted(values, reverse=True)
    assert values[0] == 1.0
    assert values[-1] == pytest.approx(0.4)
    assert specificity(0) == specificity(250)  # unknown counts as worldwide


def test_evidence_without_reach_keeps_its_full_weight() -> None:
    # Tips stored before reach existed are re-scored as they were scored then.
    tip = _scored("I bought it at Lidl.")
    old = tip.model_copy(update={"evidence": tip.evidence.model_copy(update={"reach": ()})})
    assert _features(score(old, SenderActivity()))["shop"] == 18
