"""Re-scoring in the sink on real PostgreSQL: earlier tips follow corroboration as it grows.

Tips come from the offline pipeline (the real clean and triage steps), so their arrival scores
are what triage writes; the sink then rewrites the crowd reason from the database's counts.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from ingest.tip_ids import TipIds
from ingest.web_form import form_tipster
from processors.activity import SenderActivity
from processors.app import crowd_rule
from processors.offline import OfflinePipeline
from processors.score import score
from processors.sender_key import SenderKeyer
from schemas import Cluster, Corroboration, RawTip, Reason, ScoredTip
from store.sink import TipWriter

BASE = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
KEYS = SenderKeyer("k1", b"rescore-test-secret-0123456789")

# Real-sounding tips in several languages that name the same shop chain and country.
TEXTS = (
    "I bought exactly this bag at Rossmann in Vienna last spring.",
    "Das ist die Tasche von Rossmann, habe ich in Graz gekauft.",
    "Ta torba jest z drogerii Rossmann, kupiłam taką w Krakowie.",
    "Rossmann sold these, I saw them at the checkout in Prague.",
    "Rossmann! My daughter has the same one, from a shop in Vienna.",
    "I think this came from Rossmann in Austria, maybe 2019.",
)


def raw(n: int, sender: str | None, text: str, object_ref: str = "7") -> RawTip:
    meta = {"sender": sender} if sender else {}
    return RawTip(
        tip_id=f"rs-{n:03d}",
        channel="email" if sender else "web",
        received_at=BASE + timedelta(minutes=n),
        object_ref=object_ref,
        body=text,
        channel_meta=meta,
    )


def write(url: str, *batches: list[ScoredTip]) -> None:
    async def run() -> None:
        writer = TipWriter(url, crowd=crowd_rule())
        for batch in batches:
            await writer.write(batch)
        await writer.close()

    asyncio.run(run())


def rows(url: str, object_ref: str = "7") -> dict[str, dict[str, Any]]:
    with psycopg.connect(url) as conn:
        found = conn.execute(
            "SELECT tip_id, score, reasons, score_version, record, cluster_id FROM tips "
            "WHERE object_ref = %s ORDER BY tip_id",
            (object_ref,),
        ).fetchall()
    return {
        r[0]: {"score": r[1], "reasons": r[2], "version": r[3], "record": r[4], "cluster": r[5]}
        for r in found
    }


def crowd(reasons: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    return [
        (r["feature"], r["text"], r["weight"])
        for r in reasons
        if r["feature"] in ("agree", "same_tip")
    ]


@pytest.fixture
def pipeline() -> OfflinePipeline:
    return OfflinePipeline(KEYS)


def triage(pipeline: OfflinePipeline, tips: list[RawTip]) -> list[ScoredTip]:
    return [pipeline.triage(pipeline.clean(t)) for t in tips]


def test_every_member_of_a_claim_gets_the_same_bonus_early_or_late(
    database_url: str, pipeline: OfflinePipeline
) -> None:
    tips = triage(pipeline, [raw(i, f"t{i}@example.org", TEXTS[i]) for i in range(6)])
    assert all("Rossmann" in t.evidence.shops for t in tips)
    # Frozen at arrival, the first tip got nothing and the later ones more and more.
    arrival = [sum(r.weight for r in t.reasons if r.feature == "agree") for t in tips]
    assert arrival[0] == 0 and arrival[-1] == 15

    expected = {1: 0, 2: 5, 3: 10, 4: 15, 5: 15, 6: 15}
    for n in range(1, 7):
        write(database_url, [tips[n - 1]])
        stored = rows(database_url)
        bonuses = {
            sum(w for f, _, w in crowd(r["reasons"]) if f == "agree") for r in stored.values()
        }
        assert bonuses == {expected[n]}, n
        for tip_id, row in stored.items():
            # Reasons still add up to the score, and the record says what the columns say.
            assert row["score"] == max(0, min(100, sum(r["weight"] for r in row["reasons"])))
            assert row["record"]["score"] == row["score"]
            assert row["record"]["reasons"] == row["reasons"]
            assert ScoredTip.model_validate(row["record"]).tip_id == tip_id
    stored = rows(database_url)
    assert stored["rs-000"]["version"].endswith("+crowd")
    texts = {t for r in stored.values() for f, t, _ in crowd(r["reasons"])}
    assert any(t.startswith("at least 4 independent tipsters agree on") for t in texts)


def test_replayed_batches_change_nothing(database_url: str, pipeline: OfflinePipeline) -> None:
    tips = triage(pipeline, [raw(i, f"t{i}@example.org", TEXTS[i]) for i in range(3)])
    write(database_url, tips[:2], tips[2:])
    before = rows(database_url)
    with psycopg.connect(database_url) as conn:
        claims_before = conn.execute("SELECT * FROM claim_counts ORDER BY 1, 2, 3").fetchall()
    write(database_url, tips, tips[:1], tips[1:])  # redelivered, in other batches
    assert rows(database_url) == before
    with psycopg.connect(database_url) as conn:
        assert (
            conn.execute("SELECT * FROM claim_counts ORDER BY 1, 2, 3").fetchall() == claims_before
        )
        assert ("shop", "Rossmann", 3) in {(k, v, n) for _, k, v, n in claims_before}


def test_one_sender_is_one_tipster(database_url: str, pipeline: OfflinePipeline) -> None:
    same = triage(pipeline, [raw(i, "flood@example.org", TEXTS[i]) for i in range(5)])
    write(database_url, same)
    assert all(not crowd(r["reasons"]) for r in rows(database_url).values())
    other = triage(pipeline, [raw(9, "someone@example.org", TEXTS[5])])
    write(database_url, other)
    # Two tipsters now: every one of the six tips says so, the flood's five included.
    for row in rows(database_url).values():
        assert [(f, w) for f, _, w in crowd(row["reasons"])] == [("agree", 5)]


def _db_counts(url: str) -> tuple[dict[tuple[str, str, str], int], dict[str, int]]:
    with psycopg.connect(url) as conn:
        claims = {(o, k, v): n for o, k, v, n in conn.execute("SELECT * FROM claim_counts")}
        clusters = dict(conn.execute("SELECT cluster_id, distinct_senders FROM clusters"))
    return claims, clusters


def test_sql_rule_is_the_scorers_rule(database_url: str, pipeline: OfflinePipeline) -> None:
    """For every stored tip, scoring it again in Python with the database's counts gives the
    reasons and score the sink wrote: the two implementations of the crowd rule agree."""
    senders = ["a@x.org", "b@x.org", None, "a@x.org", "c@x.org", None, "d@x.org", "e@x.org"]
    bodies = [
        *TEXTS,
        "Made in Poland, I am quite sure of it. Rossmann had them.",
        "Ta torba jest z Polski, widziałam taką w Lidlu.",
    ]
    tips = triage(
        pipeline, [raw(20 + i, s, bodies[i % len(bodies)]) for i, s in enumerate(senders * 2)]
    )
    write(database_url, tips[:5], tips[5:9], tips[9:])
    claims, clusters = _db_counts(database_url)
    stored = rows(database_url)
    checked = 0
    for tip in tips:
        corroboration = tuple(
            Corroboration(kind=c.kind, value=c.value, senders=claims[("7", c.kind, c.value)])
            for c in tip.corroboration
        )
        assert tip.cluster is not None
        cluster = tip.cluster.model_copy(
            update={"distinct_senders": clusters[tip.cluster.cluster_id]}
        )
        again = score(
            tip.model_copy(update={"corroboration": corroboration, "cluster": cluster}),
            SenderActivity(),
        )
        row = stored[tip.tip_id]
        python = [r.model_dump() for r in again.reasons if r.feature != "burst"]
        database = [r for r in row["reasons"] if r["feature"] != "burst"]
        assert database == python, tip.tip_id
        if not any(r.feature == "burst" for r in tip.reasons):
            assert row["score"] == again.score
        checked += 1
    assert checked == len(tips)


def test_same_tip_bonus_follows_the_clusters_senders(database_url: str) -> None:
    def member(n: int, sender: str) -> ScoredTip:
        return ScoredTip(
            tip_id=f"c-{n}",
            channel="email",
            received_at=BASE + timedelta(minutes=n),
            object_ref="8",
            body="looks like the blue bag from the market",
            sender_key=sender,
            cluster=Cluster(
                cluster_id="c-x", representative_tip_id="c-0", size=n + 1, distinct_senders=1
            ),
            reasons=(Reason(feature="base", text="starting score", weight=20),),
            score=20,
            score_version="2.0",
        )

    write(database_url, [member(0, "k1:a")], [member(1, "k1:b")], [member(2, "k1:c")])
    stored = rows(database_url, "8")
    assert {tuple(crowd(r["reasons"])) for r in stored.values()} == {
        (("same_tip", "3 independent tipsters sent this tip", 8),)
    }
    assert {r["score"] for r in stored.values()} == {28}


def test_two_form_tips_from_one_browser_session_are_one_tipster(
    database_url: str, pipeline: OfflinePipeline
) -> None:
    ids = TipIds(b"rescore-test-secret-0123456789")
    at = BASE
    session = form_tipster(ids, "s" * 43, at, 24)
    other = form_tipster(ids, "o" * 43, at, 24)
    form = [
        raw(60, None, TEXTS[0]).model_copy(update={"channel_meta": {"sender": session}}),
        raw(61, None, TEXTS[1]).model_copy(update={"channel_meta": {"sender": session}}),
    ]
    write(database_url, triage(pipeline, form))
    with psycopg.connect(database_url) as conn:
        consensus = dict(
            conn.execute(
                "SELECT value, tipsters FROM object_consensus WHERE object_ref = '7' "
                "AND kind = 'shop'"
            ).fetchall()
        )
    assert consensus == {"Rossmann": 1}
    assert all(not crowd(r["reasons"]) for r in rows(database_url).values())
    later = raw(62, None, TEXTS[2]).model_copy(update={"channel_meta": {"sender": other}})
    write(database_url, triage(pipeline, [later]))
    assert all(
        [f for f, _, _ in crowd(r["reasons"])] == ["agree"] for r in rows(database_url).values()
    )


def test_near_identical_photos_are_a_claim_too(database_url: str) -> None:
    def photo_tip(n: int, sender: str, senders: int) -> ScoredTip:
        tip = ScoredTip(
            tip_id=f"p-{n}",
            channel="email",
            received_at=BASE + timedelta(minutes=n),
            object_ref="9",
            body="this photo, taken at the market",
            sender_key=sender,
            corroboration=(Corroboration(kind="photo", value="c3a1e0f00f0e1a3c", senders=senders),),
            score_version="2.0",
        )
        return score(tip, SenderActivity())

    first, second = photo_tip(0, "k1:a", 1), photo_tip(1, "k1:b", 2)
    assert not crowd([r.model_dump() for r in first.reasons])
    write(database_url, [first], [second])
    for row in rows(database_url, "9").values():
        assert crowd(row["reasons"]) == [
            ("agree", "2 independent tipsters sent near-identical photos", 5)
        ]
    assert rows(database_url, "9")["p-0"]["score"] == first.score + 5
