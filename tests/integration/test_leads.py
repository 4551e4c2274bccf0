"""Objects, lead packages, tipster follow-up and urgent tips against the real embedded
PostgreSQL: the objects CLI, the intake's database catalogue and follow-up page, the clean and
triage stages in-process, the sink writer, and the review app through FastAPI's TestClient."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from ingest.memory import MemorySink
from ingest.photos import MediaStore
from ingest.web import create_app as create_intake
from processors.offline import OfflinePipeline
from processors.sender_key import SenderKeyer
from review.api import create_app as create_review
from schemas import RawTip, ScoredTip
from store.sink import TipWriter
from tipline import objects_cli
from tipline.cli import build_parser
from tipline.core.settings import Settings

pytestmark = pytest.mark.integration

TOKEN = "ana-token-0123456789abcdef"
AUTH = {"authorization": f"Bearer {TOKEN}"}


def objects(settings: Settings, *argv: str) -> int:
    return objects_cli.run(settings, build_parser().parse_args(["objects", *argv]))


def picture(path: Path) -> Path:
    Image.new("RGB", (64, 48), (30, 90, 160)).save(path, "JPEG")
    return path


def store(url: str, raws: list[RawTip]) -> list[ScoredTip]:
    """The real clean and triage stages, then the sink writer: the pipeline minus the broker."""
    pipeline = OfflinePipeline(sender_keys=SenderKeyer("k1", b"integration-secret-0123456789"))
    scored = [pipeline.triage(pipeline.clean(raw)) for raw in raws]

    async def write() -> None:
        writer = TipWriter(url)
        try:
            result = await writer.write(scored)
            assert not result.rejected
        finally:
            await writer.close()

    asyncio.run(write())
    return scored


@pytest.fixture
def app_settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,  # type: ignore[arg-type]
        data_dir=tmp_path,
        web_secure_cookies=False,
        review_tokens={"ana": TOKEN},  # type: ignore[dict-item]
        web_catalogue_ttl=0.01,
    )


def form_post(client: TestClient, page: str, action: str, data: dict[str, Any], **kw: Any) -> Any:
    html = client.get(page).text
    token = re.search(r'name="csrf" value="([^"]+)"', html)
    assert token, html
    return client.post(action, data={"csrf": token.group(1), **data}, **kw)


def test_objects_cli_and_public_pages(app_settings: Settings, tmp_path: Path) -> None:
    assert (
        objects(
            app_settings,
            "add",
            "bag-7",
            "--title",
            "en=Blue bag",
            "--title",
            "de=Blaue Tasche",
            "--question",
            "en=Where was it sold?",
            "--question",
            "de=Wo wurde sie verkauft?",
            "--picture",
            str(picture(tmp_path / "bag.jpg")),
        )
        == 0
    )
    intake = create_intake(app_settings, MemorySink(), MediaStore(tmp_path / "media"))
    with TestClient(intake) as client:
        # A draft has no public page, nor does an unknown id.
        assert client.get("/objects/bag-7").status_code == 404
        assert client.get("/objects/nope").status_code == 404
        assert objects(app_settings, "publish", "bag-7") == 0
        page = client.get("/objects/bag-7?lang=de")
        assert page.status_code == 200
        assert "Blaue Tasche" in page.text and "Wo wurde sie verkauft?" in page.text
        assert "/objects/bag-7/picture" in page.text
        image = client.get("/objects/bag-7/picture")
        assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
        assert Image.open(io.BytesIO(image.content)).size == (64, 48)
        assert "Blue bag" in client.get("/objects/bag-7?lang=pl").text  # falls back to English
        # Retired: closed, thanked, and the form still takes tips.
        assert objects(app_settings, "retire", "bag-7") == 0
        closed = client.get("/objects/bag-7")
        assert closed.status_code == 200 and "This appeal is closed" in closed.text
        assert "<textarea" in closed.text
    # Not allowed: publishing a published object, identifying without a country.
    assert objects(app_settings, "publish", "bag-7") == 0  # retired -> published: reopened
    assert objects(app_settings, "publish", "bag-7") == 2
    assert objects(app_settings, "identify", "bag-7", "--country", "Poland") == 2
    assert objects(app_settings, "identify", "bag-7", "--country", "pl") == 0


def test_an_empty_objects_table_gives_every_id_the_generic_page(
    app_settings: Settings, tmp_path: Path
) -> None:
    intake = create_intake(app_settings, MemorySink(), MediaStore(tmp_path / "media"))
    with TestClient(intake) as client:
        assert "Object 7" in client.get("/objects/7").text
        objects(app_settings, "add", "bag-7", "--title", "en=Blue bag")
        time.sleep(0.05)  # the catalogue's ttl in these settings
        assert client.get("/objects/7").status_code == 404


def test_objects_import_json_and_csv(app_settings: Settings, tmp_path: Path) -> None:
    picture(tmp_path / "cup.jpg")
    (tmp_path / "objects.json").write_text(
        json.dumps(
            [
                {
                    "ref": "cup-1",
                    "picture": "cup.jpg",
                    "texts": {"en": {"title": "A cup", "questions": ["Who made it?"]}},
                },
            ]
        )
    )
    (tmp_path / "objects.csv").write_text(
        "ref,lang,title,description,questions,picture\n"
        "toy-2,en,A toy,,Where sold? | Which year?,\n"
        "toy-2,fr,Un jouet,,Où vendu ?,\n"
    )
    assert objects(app_settings, "import", str(tmp_path / "objects.json"), "--publish") == 0
    assert objects(app_settings, "import", str(tmp_path / "objects.csv")) == 0
    (tmp_path / "bad.csv").write_text("ref,lang,title\nx-1,english,Nope\n")
    assert objects(app_settings, "import", str(tmp_path / "bad.csv")) == 2
    url = app_settings.database_url.get_secret_value()  # type: ignore[union-attr]
    with psycopg.connect(url) as conn:
        rows = dict(conn.execute("SELECT object_ref, status FROM objects").fetchall())
        texts = conn.execute("SELECT texts FROM objects WHERE object_ref = 'toy-2'").fetchone()
    assert rows == {"cup-1": "published", "toy-2": "draft"}
    assert texts and texts[0]["en"]["questions"] == ["Where sold?", "Which year?"]
    assert texts[0]["fr"]["title"] == "Un jouet"


def test_tipster_follow_up_round_trip(app_settings: Settings, tmp_path: Path) -> None:
    url = app_settings.database_url.get_secret_value()  # type: ignore[union-attr]
    objects(app_settings, "add", "bag-7", "--title", "en=Blue bag")
    objects(app_settings, "publish", "bag-7")
    sink = MemorySink()
    intake = create_intake(app_settings, sink, MediaStore(tmp_path / "media"))
    with TestClient(intake) as public:
        receipt = form_post(
            public,
            "/objects/bag-7",
            "/objects/bag-7/tips",
            {"text": "Sold at Rossmann in Graz in 2019, I bought one."},
        )
        assert receipt.status_code == 200, receipt.text
        assert "no-store" in receipt.headers["cache-control"]
        # The code is shown in groups (<span class="group">), so that it wraps only between them.
        found = re.search(r'id="followup-code">(.*?)</code>', receipt.text)
        assert found
        code = re.sub(r"<[^>]+>", "", found.group(1))
        assert re.fullmatch(r"[a-z2-7]{4}(-[a-z2-7]{1,4})+", code), code
        raw = sink.tips[0]
        assert raw.receipt is not None
        # Only the lookup id and an argon2 hash travel; the code's secret part does not.
        secret = code.replace("-", "")[10:]
        assert secret not in raw.model_dump_json()
        assert raw.receipt.secret_hash.startswith("$argon2id$")
        original = store(url, [raw])[0]
        with psycopg.connect(url) as conn:
            record = conn.execute(
                "SELECT record::text FROM tips WHERE tip_id = %s", (raw.tip_id,)
            ).fetchone()
            stored = conn.execute("SELECT lookup_id, tip_id FROM followup_receipts").fetchall()
        assert record and "argon2" not in record[0]
        assert stored == [(raw.receipt.lookup_id, raw.tip_id)]

        # No question yet; a wrong code is refused exactly like an unknown one.
        first = form_post(public, "/followup", "/followup", {"code": code})
        assert first.status_code == 200 and "no question about your tip yet" in first.text
        wrong = code[:-1] + ("a" if code[-1] != "a" else "b")
        refused = form_post(public, "/followup", "/followup", {"code": wrong})
        assert refused.status_code == 404 and "not recognised" in refused.text

        with TestClient(create_review(app_settings)) as console:
            asked = console.post(
                f"/api/tips/{original.tip_id}/questions",
                json={"question": "Which Rossmann branch in Graz?"},
                headers=AUTH,
            )
            assert asked.status_code == 200, asked.text
            # The question is on the tipster's page (code typed in upper case, with spaces).
            page = form_post(
                public, "/followup", "/followup", {"code": code.upper().replace("-", " ")}
            )
            assert "Which Rossmann branch in Graz?" in page.text
            qid = str(asked.json()["question_id"])
            answer = form_post(
                public,
                "/followup",
                "/followup/answer",
                {
                    "code": code,
                    "question": qid,
                    "text": "The one at Herrengasse. Call me on +43 664 1234567.",
                },
            )
            assert answer.status_code == 200 and "your answer has been received" in answer.text
            answer_raw = sink.tips[-1]
            assert answer_raw.follow_up_of == original.tip_id and answer_raw.receipt is None
            stored_answer = store(url, [answer_raw])[0]
            # Redacted like any tip: the phone number never reaches the database.
            assert "664" not in stored_answer.body
            thread = console.get(f"/api/tips/{original.tip_id}/questions", headers=AUTH).json()
            assert [a["tip_id"] for a in thread["answers"]] == [answer_raw.tip_id]
            assert thread["questions"][0]["asked_by"] == "ana"
            # Asking the answer's thread lands on the original; a tip without receipt refuses.
            again = console.post(
                f"/api/tips/{answer_raw.tip_id}/questions",
                json={"question": "Thanks!"},
                headers=AUTH,
            )
            assert again.status_code == 200
            no_receipt = store(
                url,
                [
                    RawTip(
                        tip_id="e-1",
                        channel="email",
                        received_at=raw.received_at,
                        object_ref="bag-7",
                        body="Seen it at Lidl.",
                    )
                ],
            )[0]
            refused_q = console.post(
                f"/api/tips/{no_receipt.tip_id}/questions",
                json={"question": "Where?"},
                headers=AUTH,
            )
            assert refused_q.status_code == 409


def test_lead_package_build_download_and_sent(app_settings: Settings) -> None:
    url = app_settings.database_url.get_secret_value()  # type: ignore[union-attr]
    objects(app_settings, "add", "bag-7", "--title", "en=Blue bag")
    raws = [
        RawTip(
            tip_id=f"w-{i}",
            channel="web",
            received_at="2026-11-30T10:00:00Z",
            object_ref="bag-7",
            body=body,
        )
        for i, body in enumerate(
            [
                "I bought this bag at Rossmann in Kraków, Poland in 2019.",
                '=HYPERLINK("http://evil") Rossmann sells it in Poland',
                "Lidl in Graz had it",
            ]
        )
    ]
    scored = store(url, raws)
    assert all(t.evidence.shops for t in scored)
    with TestClient(create_review(app_settings)) as console:
        built = console.post(
            "/api/leads",
            json={
                "object_ref": "bag-7",
                "country": "PL",
                "notes": "Two tipsters, one shop.",
                "selection": {"kind": "shop", "value": "Rossmann"},
            },
            headers=AUTH,
        )
        assert built.status_code == 201, built.text
        lead_id = built.json()["package_id"]
        assert re.fullmatch(r"LP-\d{8}-[a-z2-7]{6}", lead_id)
        package = console.get(f"/api/leads/{lead_id}", headers=AUTH).json()
        assert sorted(t["tip_id"] for t in package["tips"]) == ["w-0", "w-1"]
        assert package["country"] == "PL" and package["object"]["title"] == "Blue bag"
        text = console.get(f"/leads/{lead_id}/package.csv", headers=AUTH)
        assert text.headers["content-disposition"] == f'attachment; filename="{lead_id}.csv"'
        rows = list(csv.DictReader(io.StringIO(text.text.lstrip("\ufeff"))))
        assert len(rows) == 2
        assert all(not r["body"].startswith("=") for r in rows)
        assert any(r["body"].startswith("'=HYPERLINK") for r in rows)
        report = console.get(f"/leads/{lead_id}", headers=AUTH)
        assert report.status_code == 200 and "Two tipsters, one shop." in report.text
        sent = console.post(
            f"/api/leads/{lead_id}/sent",
            json={"authority": "Policja KGP", "sent_on": "2026-12-01"},
            headers=AUTH,
        )
        assert sent.status_code == 204
        page = console.get("/objects/bag-7", headers=AUTH).text
        assert lead_id in page and "Policja KGP on 2026-12-01" in page
        # By id: a tip of another object is refused, not silently dropped.
        other = console.post(
            "/api/leads",
            json={
                "object_ref": "bag-7",
                "country": "AT",
                "selection": {"tip_ids": ["w-2", "nope-1"]},
            },
            headers=AUTH,
        )
        assert other.status_code == 422
        assert console.get("/api/leads/LP-20260101-aaaaaa", headers=AUTH).status_code == 404
        assert console.get(f"/api/leads/{lead_id}").status_code == 401
    with psycopg.connect(url) as conn:
        events = conn.execute(
            "SELECT event, analyst, detail, authority FROM lead_events ORDER BY id"
        ).fetchall()
    assert [e[0] for e in events] == ["created", "downloaded", "downloaded", "sent"]
    assert {e[1] for e in events} == {"ana"} and events[-1][3] == "Policja KGP"


def test_urgent_tips_are_flagged_and_shown_first(app_settings: Settings) -> None:
    url = app_settings.database_url.get_secret_value()  # type: ignore[union-attr]
    scored = store(
        url,
        [
            RawTip(
                tip_id="w-shop",
                channel="web",
                received_at="2026-11-30T10:00:00Z",
                object_ref="bag-7",
                body="Rossmann in Kraków sells this bag, bought one in 2019.",
            ),
            RawTip(
                tip_id="w-urgent",
                channel="web",
                received_at="2026-11-30T10:01:00Z",
                object_ref="bag-7",
                body="I know the girl in the picture, it is happening now.",
            ),
        ],
    )
    urgent = {t.tip_id: t for t in scored}["w-urgent"]
    assert urgent.reasons[0].feature == "urgent"
    assert urgent.score == min(100, sum(r.weight for r in urgent.reasons))
    with TestClient(create_review(app_settings)) as console:
        listed = console.get("/api/urgent", headers=AUTH).json()
        assert [u["tip_id"] for u in listed] == ["w-urgent"]
        queue = console.get("/queue", headers=AUTH).text
        assert queue.index("w-urgent") < queue.index("Queue: new tips")
