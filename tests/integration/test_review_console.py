"""The analysts' console against the real embedded PostgreSQL: accounts and roles, sessions
kept server-side, the login's CSRF check, throttled credentials, claims with leases, verdicts,
merge and split, the audit, search, filters and the one-line-per-claim view."""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg.types.json import Jsonb
from pydantic import SecretStr

from review import accounts
from review.api import create_app
from schemas.tip import Attachment, Evidence
from store.sink import TipWriter
from tests.integration.test_review_api import ALICE, make_tip, store
from tipline.core.settings import Settings

pytestmark = pytest.mark.integration

PASSWORDS = {"ana": "ana-password-0123", "sue": "sue-password-0123", "otto": "otto-password-012"}
ROLES = {"ana": "analyst", "sue": "supervisor", "otto": "ops"}


@pytest.fixture
def console_settings(database_url: str, tmp_path: Path) -> Settings:
    for name, password in PASSWORDS.items():
        accounts.add(database_url, name, ROLES[name], password)
    accounts.add(database_url, "bea", "analyst", "bea-password-0123")
    return Settings(
        database_url=SecretStr(database_url),
        data_dir=tmp_path / "data",
        review_tokens={"alice": SecretStr(ALICE)},
        review_secure_cookies=False,
    )


def client_for(settings: Settings) -> TestClient:
    return TestClient(create_app(settings), follow_redirects=False)


@pytest.fixture
def app_client(console_settings: Settings) -> Iterator[TestClient]:
    with client_for(console_settings) as c:
        yield c


def form_csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match
    return match.group(1)


def sign_in(client: TestClient, name: str, password: str | None = None, **headers: str) -> Any:
    csrf = form_csrf(client.get("/login").text)
    return client.post(
        "/login",
        data={
            "name": name,
            "password": password or PASSWORDS.get(name, "bea-password-0123"),
            "csrf": csrf,
        },
        headers=headers,
    )


def page_csrf(client: TestClient) -> str:
    return form_csrf(client.get("/ops").text)


def audit_rows(url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT analyst, action, tip_id FROM audit_events ORDER BY id"
        ).fetchall()


# --- accounts, roles, sessions ------------------------------------------------------------------


def test_passwords_are_stored_as_argon2_only(database_url: str, console_settings: Settings) -> None:
    with psycopg.connect(database_url) as conn:
        stored = dict(conn.execute("SELECT name, password_hash FROM analysts").fetchall())
    assert all(h.startswith("$argon2id$") for h in stored.values())
    assert not any(p in h for p in PASSWORDS.values() for h in stored.values())


def test_password_sign_in_and_roles(app_client: TestClient) -> None:
    answer = sign_in(app_client, "ana")
    assert answer.status_code == 303, answer.text
    assert "httponly" in answer.headers["set-cookie"].lower()
    assert "samesite=strict" in answer.headers["set-cookie"].lower()
    assert app_client.get("/queue").status_code == 200
    assert app_client.get("/audit").status_code == 403  # supervisors only
    app_client.cookies.clear()
    assert sign_in(app_client, "otto").status_code == 303
    assert app_client.get("/ops").status_code == 200
    # Ops people watch the pipeline; they never read what tipsters wrote.
    for path in ("/queue", "/tips/x1", "/queue/claims", "/media/" + "a" * 64):
        assert app_client.get(path).status_code == 403, path
    assert "Your role (ops)" in app_client.get("/queue").text
    app_client.cookies.clear()
    assert sign_in(app_client, "sue").status_code == 303
    assert app_client.get("/audit").status_code == 200
    assert sign_in(app_client, "ana", "wrong-password-000").status_code == 401


def test_logout_disable_and_revoke_end_sessions_server_side(
    app_client: TestClient, database_url: str
) -> None:
    assert sign_in(app_client, "ana").status_code == 303
    cookie = app_client.cookies["tipline-review"]
    assert app_client.post("/logout", data={"csrf": page_csrf(app_client)}).status_code == 303
    # The old cookie, replayed, opens nothing: the session is ended in the database.
    app_client.cookies.set("tipline-review", cookie)
    assert app_client.get("/queue").status_code == 303
    app_client.cookies.clear()
    assert sign_in(app_client, "ana").status_code == 303
    assert accounts.revoke(database_url, "ana") == 1
    assert app_client.get("/queue").status_code == 303
    app_client.cookies.clear()
    assert sign_in(app_client, "bea").status_code == 303
    assert accounts.disable(database_url, "bea")
    assert app_client.get("/queue").status_code == 303
    app_client.cookies.clear()
    assert sign_in(app_client, "bea").status_code == 401  # disabled: no new session either
    listed = {a.name: a for a in accounts.list_all(database_url)}
    assert listed["bea"].disabled_at is not None and listed["sue"].role == "supervisor"


def test_a_token_analyst_signs_in_with_the_token(app_client: TestClient) -> None:
    assert sign_in(app_client, "alice", ALICE).status_code == 303
    assert "alice" in app_client.get("/queue").text


# --- the login's own CSRF check and the same-origin rule ------------------------------------------


def test_login_without_origin_still_needs_the_form_token(app_client: TestClient) -> None:
    app_client.get("/login")
    # No Origin header and no token: refused, and the page says why ("wrong token").
    answer = app_client.post("/login", data={"name": "ana", "password": PASSWORDS["ana"]})
    assert answer.status_code == 403
    assert "Wrong token" in answer.text and "another site" not in answer.text
    answer = app_client.post(
        "/login", data={"name": "ana", "password": PASSWORDS["ana"], "csrf": "x" * 43}
    )
    assert answer.status_code == 403 and "Wrong token" in answer.text


def test_foreign_origin_is_refused_and_null_origin_is_left_to_the_token(
    app_client: TestClient,
) -> None:
    answer = sign_in(app_client, "ana", origin="https://evil.example")
    assert answer.status_code == 403 and "another site" in answer.text
    # Origin: null (what a no-referrer page makes Chromium send) with the right token: accepted.
    assert sign_in(app_client, "ana", origin="null").status_code == 303
    same = f"http://{app_client.base_url.host}"
    csrf = page_csrf(app_client)
    wrong = app_client.post("/claim", data={"csrf": "forged"}, headers={"origin": same})
    assert wrong.status_code == 403 and "Wrong token" in wrong.text
    foreign = app_client.post(
        "/claim", data={"csrf": csrf}, headers={"sec-fetch-site": "cross-site"}
    )
    assert foreign.status_code == 403 and "another site" in foreign.text


# --- throttling -----------------------------------------------------------------------------


def test_wrong_logins_and_wrong_tokens_are_throttled(console_settings: Settings) -> None:
    settings = console_settings.model_copy(
        update={"review_login_burst": 3, "review_failures_burst": 6}
    )
    with client_for(settings) as client:
        codes = [sign_in(client, "ana", f"guess-{n:012d}").status_code for n in range(5)]
        assert codes[:3] == [401, 401, 401] and codes[3:] == [429, 429]
        throttled = sign_in(client, "ana")  # even the right password waits now
        assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) >= 1
        assert sign_in(client, "sue").status_code == 303  # another name is not locked out
        bearer_codes = [
            client.get(
                "/api/queue", headers={"authorization": f"Bearer guess-{n:020d}"}
            ).status_code
            for n in range(6)
        ]
        assert 401 in bearer_codes and bearer_codes[-1] == 429


# --- claims, verdicts, audit ------------------------------------------------------------------


def test_two_analysts_get_different_clusters_and_verdicts_are_audited(
    console_settings: Settings, database_url: str
) -> None:
    store(
        database_url,
        [
            make_tip("a1", 90, cluster=("ca", "a1", 2, 2), sender_n=1),
            make_tip("a2", 80, cluster=("ca", "a1", 2, 2), sender_n=2),
            make_tip("b1", 70),
            make_tip("c1", 60),
        ],
    )
    with client_for(console_settings) as ana, client_for(console_settings) as bea:
        sign_in(ana, "ana")
        sign_in(bea, "bea")
        first = ana.post("/claim", data={"csrf": page_csrf(ana)})
        second = bea.post("/claim", data={"csrf": page_csrf(bea)})
        assert first.headers["location"] == "/tips/a1"
        assert second.headers["location"] == "/tips/b1"  # a2 is in Ana's cluster
        # Asking again keeps one's own claim.
        assert ana.post("/claim", data={"csrf": page_csrf(ana)}).headers["location"] == "/tips/a1"
        queue = ana.get("/queue").text
        assert "claimed by bea" in queue and "claimed by ana" in queue
        # Bea cannot decide Ana's cluster.
        refused = bea.post("/tips/a2/verdict", data={"csrf": page_csrf(bea), "reason": "lead"})
        assert refused.status_code == 409 and "ana is working" in refused.text
        page = ana.get("/tips/a1").text
        assert "Claimed by you" in page
        done = ana.post(
            "/tips/a1/verdict",
            data={"csrf": page_csrf(ana), "reason": "lead", "note": "shop in Graz confirmed"},
        )
        assert done.status_code == 303 and done.headers["location"] == "/tips/a1?done=verdict"
        # The verdict ends the claim; next hands Ana the next free unit.
        assert ana.post("/claim", data={"csrf": page_csrf(ana)}).headers["location"] == "/tips/c1"
        api = ana.post(
            "/api/tips/b1/verdict",
            json={"reason": "not_relevant"},
            headers={"x-csrf-token": page_csrf(ana)},
        )
        assert api.status_code == 409  # Bea's claim
    with psycopg.connect(database_url) as conn:
        statuses = dict(conn.execute("SELECT tip_id, status FROM tips").fetchall())
        verdicts = conn.execute("SELECT unit, analyst, reason, note, tips FROM verdicts").fetchall()
    assert statuses == {"a1": "lead", "a2": "lead", "b1": "new", "c1": "new"}
    assert verdicts == [("ca", "ana", "lead", "shop in Graz confirmed", 2)]
    rows = audit_rows(database_url)
    assert ("ana", "view", "a1") in rows and ("ana", "verdict", "a1") in rows
    assert ("bea", "claim", "b1") in rows


def test_a_lease_runs_out_when_an_analyst_walks_away(
    console_settings: Settings, database_url: str
) -> None:
    store(database_url, [make_tip("l1", 90), make_tip("l2", 10)])
    with client_for(console_settings) as ana, client_for(console_settings) as bea:
        sign_in(ana, "ana")
        sign_in(bea, "bea")
        assert ana.post("/claim", data={"csrf": page_csrf(ana)}).headers["location"] == "/tips/l1"
        assert bea.post("/claim", data={"csrf": page_csrf(bea)}).headers["location"] == "/tips/l2"
        with psycopg.connect(database_url) as conn:
            conn.execute("UPDATE claims SET expires_at = now() - interval '1 second'")
        # Both leases ran out: Bea, asking again, gets the best open cluster.
        assert bea.post("/claim", data={"csrf": page_csrf(bea)}).headers["location"] == "/tips/l1"


def test_api_claim_next_hands_out_each_unit_once(
    console_settings: Settings, database_url: str
) -> None:
    store(database_url, [make_tip(f"q{n}", 50 + n) for n in range(6)])
    seen = set()
    for name in ("ana", "bea", "sue"):
        with client_for(console_settings) as client:
            sign_in(client, name)
            answer = client.post("/api/claim", headers={"x-csrf-token": page_csrf(client)})
            assert answer.status_code == 200, answer.text
            seen.add(answer.json()["tip_id"])
    assert seen == {"q5", "q4", "q3"}


# --- merge and split ------------------------------------------------------------------------


def cluster_rows(url: str) -> dict[str, tuple[int, int, str]]:
    with psycopg.connect(url) as conn:
        return {
            r[0]: (r[1], r[2], r[3])
            for r in conn.execute(
                "SELECT cluster_id, size, distinct_senders, representative_tip_id FROM clusters"
            )
        }


def test_merge_and_split_recompute_the_clusters_and_are_audited(
    app_client: TestClient, database_url: str
) -> None:
    store(
        database_url,
        [
            make_tip("m1", 90, cluster=("cm", "m1", 2, 2), sender_n=1),
            make_tip("m2", 50, cluster=("cm", "m1", 2, 2), sender_n=2),
            make_tip("n1", 70, cluster=("cn", "n1", 2, 1), sender_n=3),
            make_tip("n2", 40, cluster=("cn", "n1", 2, 1), sender_n=3),
            make_tip("solo", 30),
        ],
    )
    sign_in(app_client, "ana")
    csrf = page_csrf(app_client)
    merged = app_client.post("/tips/m1/merge", data={"csrf": csrf, "other": "n2"})
    assert merged.status_code == 303, merged.text
    assert cluster_rows(database_url) == {"cm": (4, 3, "m1")}
    alone = app_client.post("/tips/m1/merge", data={"csrf": csrf, "other": "solo"})
    assert alone.status_code == 303
    assert cluster_rows(database_url)["cm"] == (5, 4, "m1")
    again = app_client.post("/tips/m1/merge", data={"csrf": csrf, "other": "m2"})
    assert again.status_code == 409
    split = app_client.post("/tips/m1/split", data={"csrf": csrf, "member": ["n1", "n2"]})
    assert split.status_code == 303 and split.headers["location"] == "/tips/n1?done=split"
    rows = cluster_rows(database_url)
    new_id = next(k for k in rows if k != "cm")
    assert rows["cm"] == (3, 3, "m1") and rows[new_id] == (2, 1, "n1")
    everything = ["m1", "m2", "solo"]
    assert (
        app_client.post("/tips/m1/split", data={"csrf": csrf, "member": everything}).status_code
        == 409
    )
    assert (
        app_client.post("/tips/m1/split", data={"csrf": "forged", "member": ["m2"]}).status_code
        == 403
    )
    actions = [r[1] for r in audit_rows(database_url)]
    assert actions.count("merge") == 2 and actions.count("split") == 1


def clusters_of(url: str, *tip_ids: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        return dict(
            conn.execute(
                "SELECT tip_id, cluster_id FROM tips WHERE tip_id = ANY(%s)", (list(tip_ids),)
            ).fetchall()
        )


def test_an_analysts_merge_and_split_win_over_the_machines_later_batches(
    app_client: TestClient, database_url: str
) -> None:
    store(
        database_url,
        [
            make_tip("m1", 90, cluster=("cm", "m1", 3, 3), sender_n=1),
            make_tip("m2", 50, cluster=("cm", "m1", 3, 3), sender_n=2),
            make_tip("m5", 45, cluster=("cm", "m1", 3, 3), sender_n=5),
            make_tip("n1", 70, cluster=("cn", "n1", 2, 1), sender_n=3),
            make_tip("n2", 40, cluster=("cn", "n1", 2, 1), sender_n=3),
            make_tip("o1", 20, cluster=("co", "o1", 1, 1), sender_n=4),
        ],
    )
    sign_in(app_client, "ana")
    csrf = page_csrf(app_client)
    assert app_client.post("/tips/m1/merge", data={"csrf": csrf, "other": "n1"}).status_code == 303
    # The machine still thinks "cn" is a cluster of its own: its next tips join "cm", and
    # "cn" is not re-created by the sink's recompute.
    store(database_url, [make_tip("n3", 60, cluster=("cn", "n1", 3, 2), sender_n=6)])
    assert clusters_of(database_url, "n3") == {"n3": "cm"}
    rows = cluster_rows(database_url)
    assert "cn" not in rows and rows["cm"][0] == 6
    # Split m2 off: a new tip the machine puts beside m2 (in "cm") follows m2; one beside m1
    # stays in "cm".
    split = app_client.post("/tips/m1/split", data={"csrf": csrf, "member": ["m2"]})
    assert split.status_code == 303
    apart = clusters_of(database_url, "m2")["m2"]
    store(
        database_url,
        [
            make_tip("m3", 55, cluster=("cm", "m2", 4, 4), sender_n=7),
            make_tip("m4", 35, cluster=("cm", "m1", 4, 4), sender_n=8),
        ],
    )
    assert clusters_of(database_url, "m3", "m4") == {"m3": apart, "m4": "cm"}
    rows = cluster_rows(database_url)
    assert rows[apart][0] == 2 and rows["cm"][0] == 6

    # A replayed batch (the machine's original clusters) changes nothing an analyst decided.
    async def replay() -> int:
        writer = TipWriter(database_url)
        try:
            return (
                await writer.write([make_tip("m2", 50, cluster=("cm", "m1", 3, 3), sender_n=2)])
            ).inserted
        finally:
            await writer.close()

    assert asyncio.run(replay()) == 0
    assert clusters_of(database_url, "m2") == {"m2": apart}
    assert cluster_rows(database_url) == rows
    # Merging "cm" on into "co" carries the earlier redirect along: "cn" now means "co".
    assert app_client.post("/tips/o1/merge", data={"csrf": csrf, "other": "m1"}).status_code == 303
    store(database_url, [make_tip("n4", 10, cluster=("cn", "n4", 4, 3), sender_n=9)])
    assert clusters_of(database_url, "n4", "m1", "n3") == {"n4": "co", "m1": "co", "n3": "co"}
    assert set(cluster_rows(database_url)) == {"co", apart}


# --- queue: search, photo filter, redaction marks, one line per claim --------------------------


def test_search_photo_filter_and_redaction_marks(app_client: TestClient, database_url: str) -> None:
    photo = Attachment(sha256="b" * 64, media_type="image/jpeg", size=2048, width=640, height=480)
    store(
        database_url,
        [
            make_tip("s1", 80, language="de"),
            make_tip("s2", 70, attachments=(photo,)),
            make_tip("s3", 60),
        ],
    )
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "UPDATE tips SET body = 'Rossmann in Graz, schreib mir: [EMAIL] 100%_sicher'"
            " WHERE tip_id = 's3'"
        )
    sign_in(app_client, "ana")

    def listed(params: dict[str, str]) -> set[str]:
        # The tips a queue page links to (a bare "s3" can also stand in a random CSRF token).
        return set(re.findall(r'href="/tips/(s\d)"', app_client.get("/queue", params=params).text))

    page = app_client.get("/queue", params={"q": "rossm"}).text
    assert listed({"q": "rossm"}) == {"s3"}
    assert '<mark class="redacted"' in page
    assert "s3" in listed({"q": "100%_"})
    assert "s3" not in listed({"q": "100%x"})  # % is literal
    with_photo = app_client.get("/queue", params={"photos": "yes"}).text
    assert listed({"photos": "yes"}) == {"s2"} and "▣ photo" in with_photo


def test_one_line_per_claim_across_languages(app_client: TestClient, database_url: str) -> None:
    graz = Evidence(countries=("AT",), cities=("Graz",), shops=("Lidl",))
    store(
        database_url,
        [
            make_tip(f"g{n}", 50 + n, language=lang, sender_n=n, evidence=graz)
            for n, lang in enumerate(("de", "en", "pl", "cs", "hu"))
        ]
        + [make_tip("w1", 40, evidence=Evidence(cities=("Wien",)))],
    )
    sign_in(app_client, "ana")
    page = app_client.get("/queue/claims", params={"object": "obj1"}).text
    rows = re.findall(r"<tr>\s*<td class=\"score\">", page)
    assert len(rows) == 2  # five languages naming Lidl in Graz are one line
    assert "cs de en hu pl" in page and ">5<" in page


# The lines as computed from the rows (the query /queue/claims ran before migration 063): the
# reference the kept lines must equal after any sequence of writes.
_LINES_FROM_ROWS = """
SELECT object_ref, shops, cities,
       (SELECT coalesce(array_agg(DISTINCT c ORDER BY c), '{}')
          FROM unnest(array_agg(countries)) x, jsonb_array_elements_text(x) c) AS countries,
       count(*) AS tips,
       count(DISTINCT coalesce(sender_key, 'tip:' || tip_id)) AS tipsters,
       array_agg(DISTINCT language ORDER BY language) AS languages,
       max(score) AS best_score,
       (array_agg(tip_id ORDER BY score DESC, received_at, tip_id))[1] AS best_tip_id,
       count(*) FILTER (WHERE photos > 0) AS photos
FROM (
    SELECT t.object_ref,
           (SELECT coalesce(array_agg(v ORDER BY v), '{}')
              FROM jsonb_array_elements_text(t.evidence -> 'shops') v) AS shops,
           (SELECT coalesce(array_agg(v ORDER BY v), '{}')
              FROM jsonb_array_elements_text(t.evidence -> 'cities') v) AS cities,
           t.evidence -> 'countries' AS countries, t.tip_id, t.score, t.language, t.sender_key,
           jsonb_array_length(t.attachments) AS photos, t.received_at
    FROM tips t
    WHERE t.status = %s
      AND (jsonb_array_length(t.evidence -> 'shops') > 0
           OR jsonb_array_length(t.evidence -> 'cities') > 0)
) named
GROUP BY object_ref, shops, cities
ORDER BY max(score) DESC, count(DISTINCT coalesce(sender_key, 'tip:' || tip_id)) DESC, shops,
         object_ref, cities
"""


def test_kept_claim_lines_equal_the_lines_computed_from_the_rows(
    console_settings: Settings, database_url: str
) -> None:
    from review import console_store

    rng = random.Random(5)
    photo = Attachment(sha256="c" * 64, media_type="image/jpeg", size=2048, width=640, height=480)
    places = [
        Evidence(countries=("AT",), cities=("Graz",), shops=("Lidl",)),
        Evidence(countries=("AT", "DE"), cities=("Graz",), shops=("Lidl",)),
        Evidence(countries=("PL",), shops=("Biedronka", "Lidl")),
        Evidence(countries=("PL",), shops=("Lidl", "Biedronka")),
        Evidence(cities=("Wien",)),
        Evidence(),  # names nothing: never a line
    ]

    def batch(first: int, n: int) -> list[Any]:
        return [
            make_tip(
                f"r{i:03d}",
                rng.randrange(0, 101, 5),
                minute=rng.randrange(5),
                object_ref=rng.choice(("obj1", "obj2", None)),
                sender_n=rng.choice((None, 1, 2, 3, i)),
                language=rng.choice(("de", "pl", "en")),
                evidence=rng.choice(places),
                attachments=(photo,) if rng.random() < 0.3 else (),
            )
            for i in range(first, first + n)
        ]

    async def kept(status: str) -> list[tuple[Any, ...]]:
        conn = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
        try:
            lines = await console_store.named_lines(conn, status, None, limit=1000)
        finally:
            await conn.close()
        return [
            (
                ln.object_ref,
                list(ln.shops),
                list(ln.cities),
                list(ln.countries),
                ln.tips,
                ln.tipsters,
                list(ln.languages),
                ln.best_score,
                ln.best_tip_id,
                ln.photos,
            )
            for ln in lines
        ]

    def check() -> None:
        with psycopg.connect(database_url) as conn:
            for status in ("new", "reviewing", "lead", "dismissed"):
                expected = [tuple(r) for r in conn.execute(_LINES_FROM_ROWS, (status,))]
                assert asyncio.run(kept(status)) == expected, status

    store(database_url, batch(0, 60))
    check()
    store(database_url, batch(60, 40))
    check()
    with psycopg.connect(database_url, autocommit=True) as conn:
        ids = [r[0] for r in conn.execute("SELECT tip_id FROM tips ORDER BY tip_id")]
        for _ in range(6):
            chosen = rng.sample(ids, 12)
            conn.execute(
                "UPDATE tips SET status = %s WHERE tip_id = ANY(%s)",
                (rng.choice(("reviewing", "lead", "dismissed", "new")), chosen),
            )
            check()
        # The best tip of a line leaves it; an analyst corrects what a tip names; a tip goes.
        conn.execute(
            "UPDATE tips SET status = 'dismissed' WHERE tip_id = "
            "(SELECT best_tip_id FROM claim_lines WHERE status = 'new' AND tips > 0"
            " ORDER BY best_score DESC LIMIT 1)"
        )
        check()
        conn.execute(
            "UPDATE tips SET evidence = %s WHERE tip_id = ANY(%s)",
            (Jsonb(places[4].model_dump(mode="json")), ids[:10]),
        )
        check()
        conn.execute("UPDATE tips SET score = 100 WHERE tip_id = ANY(%s)", (ids[10:15],))
        check()
        conn.execute("DELETE FROM followup_receipts")
        conn.execute("DELETE FROM tips WHERE tip_id = ANY(%s)", (ids[20:25],))
        check()


def test_the_cli_reads_the_password_from_stdin_never_argv(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import sys

    from tipline.cli import main

    monkeypatch.setenv("TIPLINE_DATABASE_URL", database_url)
    monkeypatch.setenv("TIPLINE_KAFKA", "127.0.0.1:1")
    monkeypatch.setenv("TIPLINE_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(sys, "stdin", io.StringIO("cli-password-0123\n"))
    with pytest.raises(SystemExit) as done:
        main(["analyst", "add", "carol", "--role", "supervisor"])
    assert done.value.code == 0
    listed = {a.name: a.role for a in accounts.list_all(database_url)}
    assert listed == {"carol": "supervisor"}
    with pytest.raises(SystemExit):
        main(["analyst", "add", "dave", "cli-password-0123"])  # no password argument exists
    with pytest.raises(SystemExit) as done:
        main(["analyst", "revoke", "carol"])
    assert done.value.code == 0


def test_queue_pages_are_audited_with_the_tips_they_showed(
    app_client: TestClient, database_url: str
) -> None:
    store(database_url, [make_tip("v1", 50), make_tip("v2", 40)])
    sign_in(app_client, "ana")
    assert app_client.get("/queue").status_code == 200
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT analyst, detail FROM audit_events WHERE action = 'queue'"
        ).fetchone()
    assert row == ("ana", {"tips": ["v1", "v2"]})


def test_make_run_gets_a_local_account_with_a_generated_password(
    database_url: str, tmp_path: Path
) -> None:
    from tipline.supervisor import LOCAL_ANALYST, REVIEW_PASSWORD_FILE, _local_account

    settings = Settings(database_url=SecretStr(database_url), data_dir=tmp_path)
    _local_account(settings)
    secret = tmp_path / REVIEW_PASSWORD_FILE
    assert secret.stat().st_mode & 0o777 == 0o600
    _local_account(settings)  # a second run keeps it
    listed = accounts.list_all(database_url)
    assert [(a.name, a.role) for a in listed] == [(LOCAL_ANALYST, "supervisor")]
    app_settings = settings.model_copy(update={"review_secure_cookies": False})
    with client_for(app_settings) as client:
        assert sign_in(client, LOCAL_ANALYST, secret.read_text().strip()).status_code == 303
