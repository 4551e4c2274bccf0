"""An analyst opens an object's consensus page in real headless Chromium and sees the photos
tipsters sent: near-identical copies from two tipsters are one group counted as two independent
tipsters, shown with one of the copies; another picture is a group of its own; a tipster who only
re-shared the object's published picture is mentioned and not counted. The tips go through the
real clean and triage stages (the published picture read from the database) and the sink."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from pathlib import Path
from typing import Any

from PIL import Image
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from ingest.photos import MediaStore, sanitise_image
from processors.flows import TriageState, clean_flow, default_lexicon, triage_flow
from processors.offline import run_inline
from processors.runtime.steps import run_steps
from processors.sender_key import SenderKeyer
from review.api import create_app
from schemas import Attachment, RawTip, ScoredTip
from store.history import TipStore
from store.sink import TipWriter
from tests.browser.conftest import analyst_session, live_server
from tests.browser.leads_support import TOKEN, publish_bag, settings_for
from tests.photo_variants import DIFFERENT, VARIANTS, encoded, photo
from tipline.core.metrics import Counters
from tipline.core.settings import Settings


async def _pipeline(settings: Settings, database_url: str, raws: list[RawTip]) -> None:
    """Clean, triage (with the database as the dedupe store) and write, as the worker does."""
    store = TipStore(database_url)
    writer = TipWriter(database_url)
    try:
        clean = clean_flow(SenderKeyer("k1", b"browser-test-secret-0123456789"))
        state = TriageState.from_settings(settings, default_lexicon(settings), store, Counters())
        triage = triage_flow(state)
        scored: list[ScoredTip] = []
        for raw in raws:
            tip = await run_steps(clean, raw, None, run_inline)
            scored.append(await run_steps(triage, tip, None, run_inline))
        assert not (await writer.write(scored)).rejected
    finally:
        await writer.close()
        await store.close()


def _raw(n: int, sender: str, body: str, photo_of: Attachment) -> RawTip:
    return RawTip(
        tip_id=f"p-{n}",
        channel="web",
        received_at=f"2026-11-30T10:0{n}:00Z",
        object_ref="bag-7",
        body=body,
        channel_meta={"sender": sender},
        attachments=(photo_of,),
    )


def test_the_consensus_page_shows_photo_groups_and_reshares(
    browser: Any, shoot: Any, database_url: str, tmp_path: Path
) -> None:
    settings = settings_for(database_url, tmp_path)
    publish_bag(settings, tmp_path)  # its picture: tmp_path / "bag.jpg"
    media = MediaStore(settings.data_dir / "media")

    def put(data: bytes) -> Attachment:
        return media.put(sanitise_image(data))

    hopper = photo()
    half, grainy = (put(encoded(VARIANTS[v](hopper))) for v in ("half size", "jpeg quality 30"))
    other = put(encoded(DIFFERENT["another picture"](hopper), "PNG"))
    with Image.open(tmp_path / "bag.jpg") as published:
        bag = put(encoded(VARIANTS["half size"](published.convert("RGB"))))
    asyncio.run(
        _pipeline(
            settings,
            database_url,
            [
                _raw(1, "a@example.org", "I took this photo in a shop last year.", half),
                _raw(2, "b@example.org", "Same picture, a friend sent it to me.", grainy),
                _raw(3, "c@example.org", "This one is from a market stall.", other),
                _raw(4, "d@example.org", "Is this the bag from your appeal?", bag),
            ],
        )
    )

    app = create_app(settings)
    with live_server(app) as base:
        request = urllib.request.Request(
            f"{base}/api/objects/bag-7/consensus", headers={"authorization": f"Bearer {TOKEN}"}
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            found = json.loads(answer.read())
        photos = [i for i in found["items"] if i["kind"] == "photo"]
        assert sorted((i["tipsters"], i["tips"]) for i in photos) == [(1, 1), (2, 2)]
        pair = next(i for i in photos if i["tipsters"] == 2)
        assert pair["picture"] in (half.sha256, grainy.sha256)
        assert found["reshared"] == 1

        analyst_session(browser, base, app)
        browser.get(f"{base}/objects/bag-7")
        section = browser.find_element(
            By.XPATH, "//section[h2[text()='Near-identical photos sent']]"
        )
        groups = section.find_elements(By.CSS_SELECTOR, "li.photo-group")
        assert len(groups) == 2
        assert "by 2 independent tipsters (2 tips)" in groups[0].text
        assert "by 1 independent tipster (1 tip)" in groups[1].text
        # The thumbnails are the stored photos, served to the analyst through /media.
        script = (
            "return [...document.querySelectorAll('li.photo-group img')]"
            ".map(i => i.complete ? i.naturalWidth : -1)"
        )
        WebDriverWait(browser, 20).until(lambda d: -1 not in d.execute_script(script))
        shown = half if pair["picture"] == half.sha256 else grainy
        assert browser.execute_script(script) == [shown.width, other.width]
        body = browser.find_element(By.TAG_NAME, "body").text
        assert "1 tip re-shares the object's own published picture" in body
        shoot(browser, "object-photos")
