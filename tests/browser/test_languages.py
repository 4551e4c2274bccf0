"""The object page in each of the site's 31 languages, in real Chromium: the browser's language
chooses, the visible switch overrides, and no message id or English text is left on the page."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from ingest.i18n import LANGUAGES, LOCALES_DIR
from ingest.memory import MemorySink
from ingest.photos import MediaStore
from ingest.web import create_app
from tests.browser.conftest import follow, live_server, make_driver
from tipline.core.settings import Settings

ENGLISH: dict[str, str] = json.loads((LOCALES_DIR / "en.json").read_text(encoding="utf-8"))
# Message ids look like "tip_label"; none may reach the page as text. (One-word ids such as
# "required" are ordinary English words, and English itself is checked against the catalogue.)
_IDS = "|".join(re.escape(k) for k in ENGLISH if "_" in k)
_KEY = re.compile(rf"\b(?:{_IDS})\b")
# Each language's own texts that must be visible on the object page.
_SHOWN = ("page_title", "tip_label", "tip_hint", "photo_label", "anonymity_note", "submit")
# Scripts whose rendering is worth a look in the screenshots (Greek, Cyrillic, Gaelic, Icelandic).
_SHOOT = {"el", "mk", "ga", "is", "gd", "bg"}


@pytest.fixture
def app(tmp_path: Path) -> Any:
    settings = Settings(data_dir=tmp_path, web_secure_cookies=False)
    return create_app(settings, MemorySink(), MediaStore(tmp_path / "media"))


def _check_page(driver: Any, lang: str) -> None:
    messages = json.loads((LOCALES_DIR / f"{lang}.json").read_text(encoding="utf-8"))
    html = driver.find_element(By.TAG_NAME, "html")
    assert html.get_attribute("lang") == lang
    assert html.get_attribute("dir") == "ltr"
    main = driver.find_element(By.TAG_NAME, "main").text
    for key in _SHOWN:
        assert messages[key] in main, (lang, key)
    assert _KEY.search(main) is None, (lang, _KEY.search(main))
    if lang != "en":
        # ("Send tip" is Danish too: only English that the translation does not contain counts.)
        english_left = [k for k in _SHOWN if ENGLISH[k] in main and ENGLISH[k] not in messages[k]]
        assert english_left == [], (lang, english_left)


def test_the_switch_reaches_every_language(browser: Any, shoot: Any, app: Any) -> None:
    with live_server(app) as base:
        browser.get(f"{base}/objects/7")
        for lang, name in LANGUAGES.items():
            # Click the visible switch entry, as a reader would.
            follow(browser, By.CSS_SELECTOR, f'nav.languages a[hreflang="{lang}"]')
            _check_page(browser, lang)
            current = browser.find_element(By.CSS_SELECTOR, "nav.languages a[aria-current]")
            assert current.text == name
            if lang in _SHOOT:
                shoot(browser, f"object-{lang}")


@pytest.mark.parametrize("lang", ["el", "mk", "is", "lb", "ga"])
def test_the_browsers_language_chooses(lang: str, app: Any, shoot: Any) -> None:
    driver = make_driver(1000, 900, language=lang)
    try:
        with live_server(app) as base:
            driver.get(f"{base}/objects/7")
            _check_page(driver, lang)
            # The explicit switch wins over the browser's language.
            driver.get(f"{base}/objects/7?lang=fi")
            _check_page(driver, "fi")
    finally:
        driver.quit()


def test_nynorsk_readers_get_the_norwegian_pages(app: Any) -> None:
    driver = make_driver(1000, 900, language="nn")
    try:
        with live_server(app) as base:
            driver.get(f"{base}/objects/7")
            _check_page(driver, "nb")
    finally:
        driver.quit()
