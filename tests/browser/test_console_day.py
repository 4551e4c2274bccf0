"""The analysts' console in real headless Chromium, on the real embedded PostgreSQL with tips
written by the sink: signing in (the Origin/Referrer regression of issue #8), a foreign site's
form refused, and an analyst's day — queue, filter, claim, a tip with its photo, a verdict,
merge and split — with a screenshot at every step (tests/browser/screenshots/<test>/)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from PIL import Image
from pydantic import SecretStr
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from ingest.photos import MediaStore, sanitise_image
from review import accounts
from review.api import create_app
from schemas.tip import Evidence
from tests.browser.conftest import follow, live_server
from tests.integration.test_review_api import make_tip, store
from tipline.core.settings import Settings

pytestmark = pytest.mark.integration

PASSWORD = "ana-password-0123"


def console_settings(url: str, tmp_path: Path) -> Settings:
    accounts.add(url, "ana", "analyst", PASSWORD)
    return Settings(
        database_url=SecretStr(url),
        data_dir=tmp_path / "data",
        review_secure_cookies=False,
    )


def sign_in(browser: Any, base: str, shoot: Any | None = None) -> None:
    browser.get(f"{base}/queue")
    assert "/login" in browser.current_url
    browser.find_element(By.NAME, "name").send_keys("ana")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    if shoot:
        shoot(browser, "sign-in")
    browser.find_element(By.CSS_SELECTOR, "form.narrow button").click()
    WebDriverWait(browser, 15).until(
        lambda d: "/login" not in d.current_url or d.find_elements(By.CSS_SELECTOR, "[role=alert]")
    )


def click(browser: Any, css: str) -> None:
    """Submit a form and wait until the next page has replaced this one."""
    follow(browser, By.CSS_SELECTOR, css)


def text_of(browser: Any) -> str:
    return str(browser.find_element(By.TAG_NAME, "body").text)


def test_signing_in_works_in_a_real_browser(
    browser: Any,
    shoot: Any,
    database_url: str,
    tmp_path: Path,
) -> None:
    # Before the fix: Referrer-Policy no-referrer made Chromium post "Origin: null", the
    # console took it for another site and answered 403 to every sign-in.
    with live_server(create_app(console_settings(database_url, tmp_path))) as base:
        sign_in(browser, base, shoot)
        shoot(browser, "signed-in")
        assert "another site" not in browser.page_source
        assert browser.current_url.endswith("/queue"), text_of(browser)
        assert "Signed in as ana" in text_of(browser)


def test_a_form_on_another_site_is_refused(
    browser: Any,
    shoot: Any,
    database_url: str,
    tmp_path: Path,
) -> None:
    with live_server(create_app(console_settings(database_url, tmp_path))) as base:
        evil = FastAPI()

        @evil.get("/")
        async def page() -> HTMLResponse:
            return HTMLResponse(
                f'<form method="post" action="{base}/claim"><input name="csrf" value="x">'
                '<button id="go">win a prize</button></form>'
            )

        with live_server(evil) as other:
            sign_in(browser, base)
            browser.get(other)
            click(browser, "#go")
            shoot(browser, "refused")
            assert "another site" in text_of(browser)


def _photo(media: MediaStore) -> Any:
    img = Image.new("RGB", (320, 240), (200, 60, 40))
    for x in range(80, 240):
        for y in range(60, 180):
            img.putpixel((x, y), (250, 220, 40))
    out = io.BytesIO()
    img.save(out, "JPEG")
    return media.put(sanitise_image(out.getvalue()))


def test_an_analysts_day(
    browser: Any,
    shoot: Any,
    database_url: str,
    tmp_path: Path,
) -> None:
    settings = console_settings(database_url, tmp_path)
    photo = _photo(MediaStore(settings.data_dir / "media"))
    graz = Evidence(countries=("AT",), cities=("Graz",), shops=("Lidl",))
    texts = {
        "de": "Diese Tasche habe ich im Lidl in Graz gesehen, Annenstraße. Mail: [EMAIL]",
        "en": "I saw this bag at the Lidl in Graz, near the station.",
        "pl": "Widziałem tę torbę w Lidlu w Grazu.",
        "cs": "Tuto tašku jsem viděl v Lidlu v Grazu.",
        "hu": "Ezt a táskát a grazi Lidlben láttam.",
    }
    tips = [
        make_tip(
            f"w-graz-{lang}",
            80 - n,
            language=lang,
            sender_n=n,
            evidence=graz,
            cluster=("c-graz", "w-graz-de", 3, 3) if n < 3 else None,
            attachments=(photo,) if lang == "de" else (),
        ).model_copy(update={"body": text, "redactions": {"EMAIL": 1} if "[EMAIL]" in text else {}})
        for n, (lang, text) in enumerate(texts.items())
    ]
    tips += [
        make_tip(f"w-other-{n:02d}", 10 + n, language="de", sender_n=10 + n).model_copy(
            update={"body": f"Vielleicht aus einem Laden in Wien? ({n})"}
        )
        for n in range(30)
    ]
    store(database_url, tips)

    with live_server(create_app(settings)) as base:
        sign_in(browser, base, shoot)
        shoot(browser, "queue")
        rows = browser.find_elements(By.CSS_SELECTOR, "table.queue tbody tr")
        assert len(rows) >= 30
        # Compact: at least 12 rows fit on the first screen (before: about four).
        height = browser.execute_script("return window.innerHeight")
        visible = [r for r in rows if r.rect["y"] + r.rect["height"] <= height]
        assert len(visible) >= 12, len(visible)
        assert "▣ photo" in rows[0].text

        # Filter: search text and the photo box.
        browser.find_element(By.ID, "f-q").send_keys("graz")
        browser.find_element(By.ID, "f-photos").click()
        click(browser, "form.filters button")
        shoot(browser, "filtered")
        assert len(browser.find_elements(By.CSS_SELECTOR, "table.queue tbody tr")) == 1

        # One line per claim, across languages.
        browser.get(f"{base}/queue/claims?object=obj1")
        shoot(browser, "claims-across-languages")
        assert "cs de en hu pl" in text_of(browser)

        # Claim the next cluster: the Graz cluster, best first.
        browser.get(f"{base}/queue")
        click(browser, "form.claim button")
        assert browser.current_url.endswith("/tips/w-graz-de")
        shoot(browser, "claimed-tip")
        page = text_of(browser)
        assert "Claimed by you" in page
        marks = browser.find_elements(By.CSS_SELECTOR, ".body mark.redacted")
        assert [m.text for m in marks] == ["[EMAIL]"]
        img = browser.find_element(By.CSS_SELECTOR, ".attachments img")
        assert browser.execute_script("return arguments[0].naturalWidth", img) == 320

        # The machine put the Polish tip with the German ones, fine; but split it off.
        browser.find_element(By.CSS_SELECTOR, 'input[name="member"][value="w-graz-pl"]').click()
        shoot(browser, "split-chosen")
        click(browser, "#split button")
        assert "cluster of their own" in text_of(browser)
        shoot(browser, "split-done")

        # ... and merge it back, with the Czech one.
        browser.get(f"{base}/tips/w-graz-de")
        for other in ("w-graz-pl", "w-graz-cs"):
            field = browser.find_element(By.ID, "m-other")
            field.send_keys(other)
            click(browser, 'form[action$="/merge"] button')
            assert "were merged" in text_of(browser)
        shoot(browser, "merged")

        # Verdict: a lead, with a note.
        browser.find_element(By.ID, "v-lead").click()
        browser.find_element(By.ID, "v-note").send_keys("Lidl Annenstraße, Graz: pass to AT")
        shoot(browser, "verdict-chosen")
        click(browser, "form.verdict button")
        shoot(browser, "verdict-given")
        assert "Verdict recorded" in text_of(browser)

    with psycopg.connect(database_url) as conn:
        decided = dict(
            conn.execute("SELECT tip_id, status FROM tips WHERE tip_id LIKE 'w-graz-%'").fetchall()
        )
        actions = [r[0] for r in conn.execute("SELECT action FROM audit_events ORDER BY id")]
    assert decided == {
        "w-graz-de": "lead",
        "w-graz-en": "lead",
        "w-graz-pl": "lead",
        "w-graz-cs": "lead",
        "w-graz-hu": "new",
    }
    assert {"login", "claim", "view", "split", "merge", "verdict"} <= set(actions)
