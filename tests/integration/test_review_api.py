"""The review app against the real embedded PostgreSQL: queue, pagination, auth, status changes
and their audit, consensus, ops and media access control, through FastAPI's TestClient."""

from __future__ import annotations

import asyncio
import hashlib
import random
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from ingest.contact import new_key_pair, open_contact, seal_contact
from ingest.photos import MediaStore
from processors.evidence import find_evidence
from review.api import create_app
from schemas import ScoredTip
from schemas.tip import Attachment, Cluster, Evidence, Reason
from store.sink import TipWriter
from tipline.core.settings import Settings

pytestmark = pytest.mark.integration

ALICE = "alice-token-0123456789abcdef"
BOB = "bob-token-0123456789abcdef00"
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def sender(n: int) -> str:
    return "k1:" + hashlib.sha256(f"sender-{n}".encode()).hexdigest()[:32]


def make_tip(
    tip_id: str,
    score: int,
    *,
    minute: int = 0,
    object_ref: str | None = "obj1",
    cluster: tuple[str, str, int, int] | None = None,
    sender_n: int | None = None,
    language: str = "de",
    evidence: Evidence | None = None,
    attachments: tuple[Attachment, ...] = (),
    received_at: datetime | None = None,
) -> ScoredTip:
    return ScoredTip(
        tip_id=tip_id,
        channel="web",
        received_at=received_at or T0 + timedelta(minutes=minute),
        object_ref=object_ref,
        body=f"Ich habe diese Tasche gesehen ({tip_id}).",
        language=language,
        language_confidence=0.9,
        sender_key=sender(sender_n) if sender_n is not None else None,
        redactions={"EMAIL": 1} if score % 2 else {},
        evidence=evidence or Evidence(),
        attachments=attachments,
        cluster=(
            Cluster(
                cluster_id=cluster[0],
                representative_tip_id=cluster[1],
                size=cluster[2],
                distinct_senders=cluster[3],
                duplicate_of=None if cluster[1] == tip_id else cluster[1],
                similarity=0.0 if cluster[1] == tip_id else 0.9,
            )
            if cluster
            else None
        ),
        score=score,
        reasons=(Reason(feature="shop", text="names a shop chain: Lidl", weight=score),),
        score_version="test",
    )


def store(url: str, tips: Sequence[ScoredTip]) -> None:
    async def go() -> None:
        writer = TipWriter(url)
        try:
            result = await writer.write(tips)
            assert result.inserted == len(tips) and not result.rejected
        finally:
            await writer.close()

    asyncio.run(go())


def set_status(url: str, tip_id: str, status: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("UPDATE tips SET status = %s WHERE tip_id = %s", (status, tip_id))


@pytest.fixture
def review_settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=SecretStr(database_url),
        data_dir=tmp_path / "data",
        review_tokens={"alice": SecretStr(ALICE), "bob": SecretStr(BOB)},
        review_secure_cookies=False,
    )


@pytest.fixture
def client(review_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(review_settings), follow_redirects=False) as c:
        yield c


def bearer(token: str = ALICE) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def queue_ids(client: TestClient, **params: Any) -> list[str]:
    answer = client.get("/api/queue", params=params, headers=bearer())
    assert answer.status_code == 200, answer.text
    return [item["tip_id"] for item in answer.json()["items"]]


NAMES = {ALICE: "alice", BOB: "bob"}


def login_form(client: TestClient) -> str:
    """Open the sign-in form; returns its CSRF token (its cookie is now in the client)."""
    page = client.get("/login")
    assert page.status_code == 200
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match
    return match.group(1)


def login(client: TestClient, token: str = ALICE) -> str:
    """Sign in through the form; returns the session's CSRF token from a rendered page."""
    csrf = login_form(client)
    answer = client.post(
        "/login",
        data={"name": NAMES[token], "password": token, "csrf": csrf, "next": "/queue"},
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/queue"
    page = client.get("/queue")
    assert page.status_code == 200
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match
    return match.group(1)


# --- auth ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/queue", 401),
        ("/api/tips/x1", 401),
        ("/api/objects/obj1/consensus", 401),
        ("/api/ops/throughput", 401),
        ("/api/openapi.json", 401),
        ("/queue", 303),
        ("/tips/x1", 303),
        ("/objects/obj1", 303),
        ("/ops", 303),
        ("/media/" + "a" * 64, 303),
    ],
)
def test_everything_but_healthz_needs_an_analyst(
    client: TestClient, path: str, status: int
) -> None:
    assert client.get("/healthz").status_code == 200
    answer = client.get(path)
    assert answer.status_code == status
    if status == 401:
        assert answer.headers["www-authenticate"] == "Bearer"
        wrong = client.get(path, headers=bearer("not-a-token-at-all-000"))
        assert wrong.status_code == 401
    else:
        assert answer.headers["location"].startswith("/login?next=%2F")


def test_security_headers_and_no_caching(client: TestClient, database_url: str) -> None:
    store(database_url, [make_tip("x1", 50)])
    for path in ("/api/queue", "/api/tips/x1", "/tips/x1", "/queue"):
        answer = client.get(path, headers=bearer())
        assert answer.status_code == 200
        assert "no-store" in answer.headers["cache-control"]
        assert "script-src 'none'" in answer.headers["content-security-policy"]
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["referrer-policy"] == "same-origin"
    spec = client.get("/api/openapi.json", headers=bearer()).json()
    assert {"/api/queue", "/api/tips/{tip_id}/status", "/api/ops/throughput"} <= set(spec["paths"])


def test_login_form_session_and_logout(client: TestClient) -> None:
    csrf_form = login_form(client)
    refused = client.post(
        "/login", data={"name": "alice", "password": "wrong-token-0123456789", "csrf": csrf_form}
    )
    assert refused.status_code == 401
    assert "tipline-review" not in refused.cookies
    # Bob's token is not Alice's password.
    refused = client.post("/login", data={"name": "alice", "password": BOB, "csrf": csrf_form})
    assert refused.status_code == 401
    # An off-site "next" is not followed after login.
    answer = client.post(
        "/login",
        data={"name": "bob", "password": BOB, "csrf": csrf_form, "next": "//evil.example/x"},
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/queue"
    page = client.get("/queue")
    assert page.status_code == 200 and "bob" in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    assert client.post("/logout", data={"csrf": "forged"}).status_code == 403
    assert client.post("/logout", data={"csrf": csrf.group(1)}).status_code == 303
    assert client.get("/queue").status_code == 303


def test_tampered_session_cookie_is_refused(client: TestClient) -> None:
    login(client)
    value = client.cookies["tipline-review"]
    client.cookies.clear()
    client.cookies.set("tipline-review", value)
    assert client.get("/queue").status_code == 200  # the cookie alone, re-set, still works
    for bad in (value[:-1] + ("A" if value[-1] != "A" else "B"), value[::-1], "", "x" * 500):
        client.cookies.clear()
        client.cookies.set("tipline-review", bad)
        assert client.get("/queue").status_code == 303


# --- queue -----------------------------------------------------------------------------------


def test_queue_shows_the_best_tip_of_each_cluster_best_first(
    client: TestClient, database_url: str
) -> None:
    tips = [
        make_tip("a1", 40, minute=0, cluster=("ca", "a1", 3, 2), sender_n=1),
        make_tip("a2", 70, minute=1, cluster=("ca", "a1", 3, 2), sender_n=2),
        make_tip("a3", 55, minute=2, cluster=("ca", "a1", 3, 2), sender_n=1),
        make_tip("b1", 90, minute=3, cluster=("cb", "b1", 2, 1), sender_n=3),
        make_tip("b2", 20, minute=4, cluster=("cb", "b1", 2, 1), sender_n=3),
        make_tip("s2", 60, minute=6),
        make_tip("s1", 60, minute=5),
    ]
    store(database_url, tips)
    assert queue_ids(client) == ["b1", "a2", "s1", "s2"]
    item = client.get("/api/queue", headers=bearer()).json()["items"][1]
    assert item["cluster_size"] == 3 and item["independent_tipsters"] == 2
    assert item["reasons"][0]["text"] == "names a shop chain: Lidl"
    # The best tip dismissed on its own: its cluster is still in the queue, by its next best.
    set_status(database_url, "a2", "dismissed")
    assert queue_ids(client) == ["b1", "s1", "s2", "a3"]
    assert queue_ids(client, status="dismissed") == ["a2"]


def test_queue_filters_by_object_and_language(client: TestClient, database_url: str) -> None:
    store(
        database_url,
        [
            make_tip("o1", 50, object_ref="obj1", language="de"),
            make_tip("o2", 60, object_ref="obj2", language="de"),
            make_tip("o3", 70, object_ref="obj1", language="pl"),
            make_tip("o4", 80, object_ref=None, language="pl"),
            # One cluster in two languages: filtering by Czech must still find its Czech tip.
            make_tip("m1", 95, object_ref="obj3", language="de", cluster=("cm", "m1", 2, 2)),
            make_tip("m2", 45, object_ref="obj3", language="cs", cluster=("cm", "m1", 2, 2)),
        ],
    )
    assert queue_ids(client, language="cs") == ["m2"]
    assert queue_ids(client, object="obj3") == ["m1"]
    assert queue_ids(client, object="obj1") == ["o3", "o1"]
    assert queue_ids(client, language="pl") == ["o4", "o3"]
    assert queue_ids(client, object="obj1", language="de") == ["o1"]
    page = client.get("/queue", params={"object": "obj2", "language": ""}, headers=bearer())
    assert "o2" in page.text and "o1" not in page.text
    assert client.get("/api/queue?object=bad%20ref", headers=bearer()).status_code == 422
    assert client.get("/api/queue?status=open", headers=bearer()).status_code == 422


def test_keyset_pages_cover_the_queue_once_in_order(client: TestClient, database_url: str) -> None:
    rng = random.Random(7)
    # Few distinct scores and shared receipt times: ties on both must still page exactly.
    tips = [
        make_tip(f"p{n:02d}", rng.choice((10, 50, 90)), minute=rng.randrange(3)) for n in range(37)
    ]
    store(database_url, tips)
    expected = [t.tip_id for t in sorted(tips, key=lambda t: (-t.score, t.received_at, t.tip_id))]
    seen: list[str] = []
    after: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 8}
        if after:
            params["after"] = after
        body = client.get("/api/queue", params=params, headers=bearer()).json()
        seen += [i["tip_id"] for i in body["items"]]
        pages += 1
        after = body["next"]
        if after is None:
            break
    assert seen == expected
    assert pages == 5
    assert client.get("/api/queue?after=garbage", headers=bearer()).status_code == 400
    # The page shows a next link that carries the cursor.
    html = client.get("/queue", headers=bearer()).text
    assert 'rel="next"' not in html or "after=" in html


def test_tips_about_closed_objects_sink_but_stay_and_page_with_the_keyset(
    client: TestClient, database_url: str
) -> None:
    from review import objects

    with psycopg.connect(database_url, autocommit=True) as conn:
        for ref, status in (("obj1", "published"), ("obj2", "published"), ("obj3", "retired")):
            conn.execute(
                "INSERT INTO objects (object_ref, status, texts) VALUES (%s, %s, %s)",
                (ref, status, '{"en": {"title": "A bag", "questions": []}}'),
            )
    rng = random.Random(11)
    tips = [
        make_tip(f"o{n:02d}", rng.choice((10, 50, 90)), minute=rng.randrange(3), object_ref=ref)
        for n, ref in enumerate(["obj1", "obj2", "obj3", None] * 6)
    ]
    store(database_url, tips)  # obj3 is already retired: its tips arrive closed
    with psycopg.connect(database_url) as conn:
        assert objects.change(conn, "obj2", "identified", "PL") == "published"

    def pages(limit: int) -> list[str]:
        seen: list[str] = []
        after: str | None = None
        while True:
            params: dict[str, Any] = {"limit": limit} | ({"after": after} if after else {})
            body = client.get("/api/queue", params=params, headers=bearer()).json()
            seen += [i["tip_id"] for i in body["items"]]
            after = body["next"]
            if after is None:
                return seen

    def order(closed: set[str | None]) -> list[str]:
        return [
            t.tip_id
            for t in sorted(
                tips, key=lambda t: (t.object_ref in closed, -t.score, t.received_at, t.tip_id)
            )
        ]

    expected = order({"obj2", "obj3"})
    assert pages(5) == expected  # a page boundary falls inside the closed objects' tips too
    assert pages(100) == expected
    assert set(expected[-12:]) == {t.tip_id for t in tips if t.object_ref in ("obj2", "obj3")}
    # Claim-next hands out an open object's tip even when a closed one scores higher.
    claimed = client.post("/api/claim", headers=bearer()).json()["tip_id"]
    assert claimed == expected[0]
    # Reopened, an object's tips rise again.
    with psycopg.connect(database_url) as conn:
        objects.change(conn, "obj3", "published")
    assert pages(7) == order({"obj2"})


# --- status changes and audit ------------------------------------------------------------------


def audit(url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT tip_id, from_status, to_status, analyst, cluster_wide, note"
            " FROM status_changes ORDER BY id"
        ).fetchall()


def test_status_change_is_audited_and_follows_the_workflow(
    client: TestClient, database_url: str
) -> None:
    store(database_url, [make_tip("x1", 50)])

    def post(body: dict[str, Any], token: str = ALICE) -> Any:
        return client.post("/api/tips/x1/status", json=body, headers=bearer(token))

    assert post({"status": "lead"}).status_code == 409  # new → lead skips review
    first = post({"status": "reviewing", "note": "checking the shop", "expected": "new"})
    assert first.status_code == 200, first.text
    assert first.json()["changed"] == ["x1"]
    # Bob saw it as new: his change is refused, not silently applied over Alice's.
    assert post({"status": "dismissed", "expected": "new"}, BOB).status_code == 409
    assert post({"status": "lead"}, BOB).status_code == 200
    assert post({"status": "bogus"}).status_code == 422
    assert (
        client.post(
            "/api/tips/nope/status", json={"status": "reviewing"}, headers=bearer()
        ).status_code
        == 404
    )
    detail = client.get("/api/tips/x1", headers=bearer()).json()
    assert detail["status"] == "lead" and detail["reviewed_by"] == "bob"
    assert [(h["analyst"], h["to_status"]) for h in detail["history"]] == [
        ("alice", "reviewing"),
        ("bob", "lead"),
    ]
    assert audit(database_url) == [
        ("x1", "new", "reviewing", "alice", False, "checking the shop"),
        ("x1", "reviewing", "lead", "bob", False, None),
    ]


def test_cluster_wide_change_skips_members_that_cannot_make_it(
    client: TestClient, database_url: str
) -> None:
    cluster = ("cc", "c1", 3, 3)
    store(
        database_url,
        [
            make_tip("c1", 60, cluster=cluster, sender_n=1),
            make_tip("c2", 50, cluster=cluster, sender_n=2),
            make_tip("c3", 40, cluster=cluster, sender_n=3),
            make_tip("other", 30),
        ],
    )
    set_status(database_url, "c3", "lead")
    answer = client.post(
        "/api/tips/c1/status", json={"status": "dismissed", "cluster": True}, headers=bearer()
    )
    assert answer.status_code == 200
    assert sorted(answer.json()["changed"]) == ["c1", "c2"]
    assert answer.json()["skipped"] == ["c3"]
    with psycopg.connect(database_url) as conn:
        statuses = dict(conn.execute("SELECT tip_id, status FROM tips").fetchall())
    assert statuses == {"c1": "dismissed", "c2": "dismissed", "c3": "lead", "other": "new"}
    assert {(r[0], r[4]) for r in audit(database_url)} == {("c1", True), ("c2", True)}


def test_status_form_needs_the_session_csrf_token(client: TestClient, database_url: str) -> None:
    store(database_url, [make_tip("f1", 50)])
    csrf = login(client)
    refused = client.post("/tips/f1/status", data={"status": "reviewing", "csrf": "forged"})
    assert refused.status_code == 403
    # JSON from a browser session without the header is refused as well.
    assert client.post("/api/tips/f1/status", json={"status": "reviewing"}).status_code == 403
    done = client.post(
        "/tips/f1/status",
        data={"status": "reviewing", "csrf": csrf, "expected": "new", "note": "mine"},
    )
    assert done.status_code == 303 and done.headers["location"] == "/tips/f1?changed=1"
    page = client.get("/tips/f1?changed=1")
    assert "reviewing" in page.text and "alice" in page.text and "mine" in page.text
    assert audit(database_url) == [("f1", "new", "reviewing", "alice", False, "mine")]


# --- consensus, ops, media ---------------------------------------------------------------------


def test_consensus_counts_independent_tipsters(client: TestClient, database_url: str) -> None:
    pl = Evidence(countries=("PL",), shops=("Lidl",))
    store(
        database_url,
        [
            make_tip("k1", 80, sender_n=1, evidence=pl),
            make_tip("k2", 40, sender_n=1, evidence=pl),  # same sender again: one tipster
            make_tip("k3", 60, sender_n=2, evidence=Evidence(countries=("PL", "DE"))),
            make_tip("k4", 70, evidence=Evidence(countries=("PL",))),  # anonymous: its own
            make_tip("k5", 99, object_ref="obj2", sender_n=5, evidence=pl),
        ],
    )
    body = client.get("/api/objects/obj1/consensus", headers=bearer()).json()
    items = {(i["kind"], i["value"]): i for i in body["items"]}
    assert items["country", "PL"]["tipsters"] == 3 and items["country", "PL"]["tips"] == 4
    assert items["country", "PL"]["best_tip_id"] == "k1"
    assert items["shop", "Lidl"]["tipsters"] == 1
    assert items["country", "DE"]["tipsters"] == 1
    kinds = [i["kind"] for i in body["items"]]
    assert kinds == sorted(kinds, key=("country", "city", "shop").index)
    assert body["tips"] == 4 and body["tipsters"] == 3
    page = client.get("/objects/obj1", headers=bearer()).text
    assert "PL" in page and "3 independent tipsters" in page and "/tips/k1" in page
    assert client.get("/api/objects/bad ref/consensus", headers=bearer()).status_code == 404


def test_consensus_shows_the_countries_each_claim_points_to(
    client: TestClient, database_url: str
) -> None:
    # Evidence as extract_evidence writes it, from the packaged lexicon (NSI chains included).
    zabka = find_evidence("Kupiłem ją w Żabce albo w Żabka w Krakowie", 2026)
    world = find_evidence("I think it was sold at Adidas, with a Coca-Cola logo", 2026)
    store(
        database_url,
        [
            make_tip("r1", 80, object_ref="obj7", sender_n=1, evidence=zabka),
            make_tip("r2", 50, object_ref="obj7", sender_n=2, evidence=world),
            # Stored before reach existed: no countries to show, nothing breaks.
            make_tip("r3", 40, object_ref="obj7", sender_n=3, evidence=Evidence(shops=("Lidl",))),
        ],
    )
    body = client.get("/api/objects/obj7/consensus", headers=bearer()).json()
    items = {(i["kind"], i["value"]): i for i in body["items"]}
    assert items["shop", "Żabka"]["countries"] == ["PL"] and items["shop", "Żabka"]["spread"] == 1
    assert items["city", "Kraków"]["countries"] == ["PL"]
    assert items["shop", "Adidas"]["countries"] == [] and items["shop", "Adidas"]["spread"] > 150
    assert items["brand", "Coca-Cola"]["spread"] > 150
    assert items["shop", "Lidl"]["countries"] == [] and items["shop", "Lidl"]["spread"] == 0
    page = client.get("/objects/obj7", headers=bearer()).text
    assert (
        '<strong>Żabka</strong> <span class="reach" title="the countries it points to">→ PL' in page
    )
    assert (
        '<strong>Adidas</strong> <span class="reach" title="the countries it points to">→ worldwide'
        in page
    )


def test_ops_counts_and_throughput(client: TestClient, database_url: str) -> None:
    now = datetime.now(UTC)
    store(
        database_url,
        [make_tip(f"n{i}", 50, received_at=now - timedelta(minutes=30)) for i in range(4)],
    )
    set_status(database_url, "n0", "lead")
    with psycopg.connect(database_url) as conn:
        # Spread the stored times over the window's edges: 14 minutes back is in, 20 is out.
        for tip_id, back in (("n1", 3), ("n2", 14), ("n3", 20)):
            conn.execute(
                "UPDATE tips SET ingested_at = now() - make_interval(mins => %s) WHERE tip_id = %s",
                (back, tip_id),
            )
    body = client.get("/api/ops/throughput?minutes=15", headers=bearer()).json()
    assert body["by_status"] == {"new": 3, "reviewing": 0, "lead": 1, "dismissed": 0}
    # Waiting since stored (n3, 20 minutes ago), not since received (30): imports are historical.
    assert 19 * 60 <= body["oldest_new_age_s"] <= 26 * 60
    assert sum(r["tips"] for r in body["throughput"]) == 3
    assert all(r["channel"] == "web" for r in body["throughput"])
    # Row for row what the throughput_per_minute view says for the same 15 minutes.
    with psycopg.connect(database_url) as conn:
        view = conn.execute(
            "SELECT minute, channel, tips FROM throughput_per_minute"
            " WHERE minute > date_trunc('minute', %s::timestamptz) - interval '15 minutes'"
            " ORDER BY minute DESC, channel",
            (datetime.fromisoformat(body["now"]),),
        ).fetchall()
    assert [
        (datetime.fromisoformat(r["minute"]), r["channel"], r["tips"]) for r in body["throughput"]
    ] == [(m, ch, n) for m, ch, n in view]
    assert len(view) == 3
    page = client.get("/ops?minutes=15", headers=bearer()).text
    assert page.count('<th scope="row">') == 15
    # Throughput, delay and lag; no worker recorded lag here, so its chart draws no bar.
    assert page.count('<svg class="chart"') == 3 and page.count("<rect ") >= 3
    assert "consumer lag per minute, all topics: no data" in page
    assert "No dead letters in this window." in page
    assert "<script" not in page
    assert client.get("/api/ops/throughput?minutes=0", headers=bearer()).status_code == 422


def test_media_only_for_images_some_tip_names(
    client: TestClient, database_url: str, review_settings: Settings
) -> None:
    media = MediaStore(review_settings.data_dir / "media")

    def put(data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        path = media.path_for(digest)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return digest

    named = put(b"\x89PNG fake but named")
    unnamed = put(b"\x89PNG not named by any tip")
    missing = hashlib.sha256(b"never stored").hexdigest()
    attachments = tuple(
        Attachment(sha256=d, media_type="image/png", size=10, width=4, height=3)
        for d in (named, missing)
    )
    store(database_url, [make_tip("m1", 50, attachments=attachments)])
    answer = client.get(f"/media/{named}", headers=bearer())
    assert answer.status_code == 200 and answer.content == b"\x89PNG fake but named"
    assert answer.headers["content-type"] == "image/png"
    assert "no-store" in answer.headers["cache-control"]
    assert client.get(f"/media/{unnamed}", headers=bearer()).status_code == 404
    assert client.get(f"/media/{missing}", headers=bearer()).status_code == 404
    assert client.get("/media/../../etc/passwd", headers=bearer()).status_code == 404
    assert client.get("/media/" + "A" * 64, headers=bearer()).status_code == 404
    assert f"/media/{named}" in client.get("/tips/m1", headers=bearer()).text


def test_no_answer_carries_a_whole_sender_key(client: TestClient, database_url: str) -> None:
    tips = [
        make_tip(
            "z1", 70, sender_n=11, cluster=("cz", "z1", 2, 2), evidence=Evidence(countries=("AT",))
        ),
        make_tip("z2", 60, sender_n=12, cluster=("cz", "z1", 2, 2)),
    ]
    store(database_url, tips)
    keys = [sender(11), sender(12)]
    answers = [
        client.get(path, headers=bearer())
        for path in (
            "/api/queue",
            "/api/tips/z1",
            "/api/tips/z2",
            "/queue",
            "/tips/z1",
            "/objects/obj1",
            "/api/objects/obj1/consensus",
        )
    ]
    for answer in answers:
        assert answer.status_code == 200
        for key in keys:
            assert key not in answer.text and key.split(":")[1][:12] not in answer.text
    tag = keys[0].split(":")[1][:6]
    assert f"tipster #{tag}" in client.get("/tips/z1", headers=bearer()).text


def test_sealed_contact_is_shown_sealed(client: TestClient, database_url: str) -> None:
    """Analysts see that a contact exists and can pass the ciphertext to investigators; the
    app itself cannot read it."""
    public, private = new_key_pair()
    sealed = seal_contact("anna@example.org", public)
    store(database_url, [make_tip("sc-1", 50).model_copy(update={"sealed_contact": sealed})])
    detail = client.get("/api/tips/sc-1", headers=bearer()).json()
    page = client.get("/tips/sc-1", headers=bearer()).text
    assert open_contact(detail["sealed_contact"], private) == "anna@example.org"
    assert sealed in page and "anna@example.org" not in page
