"""A tipster opens an object's page on a phone in several languages, sees the picture and the
questions in that language, sends a tip with a photo and gets a receipt with a follow-up code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from ingest.memory import MemorySink
from ingest.photos import MediaStore
from ingest.web import create_app
from tests.browser.conftest import PHONE, follow, live_server, make_driver
from tests.browser.leads_support import picture, publish_bag, settings_for

CASES = [
    ("en", "Blue shopping bag with a red band", "Where was this bag sold?", "Thank you"),
    ("de", "Blaue Einkaufstasche mit rotem Streifen", "Wo wurde diese Tasche verkauft?", "Dank"),
    ("pl", "Niebieska torba z czerwonym paskiem", "Gdzie sprzedawano tę torbę?", "Dziękujemy"),
    ("fr", "Sac bleu à bande rouge", "Où ce sac était-il vendu ?", "Merci"),
]


@pytest.fixture
def intake(database_url: str, tmp_path: Path) -> Any:
    settings = settings_for(database_url, tmp_path)
    publish_bag(settings, tmp_path)
    sink = MemorySink()
    with live_server(create_app(settings, sink, MediaStore(tmp_path / "media"))) as base:
        yield base, sink


def test_the_object_page_on_a_phone_in_several_languages(
    intake: Any, shoot: Any, tmp_path: Path
) -> None:
    base, sink = intake
    photo = picture(tmp_path / "my-photo.jpg", colour=(20, 140, 60))
    for lang, title, question, thanks in CASES:
        driver = make_driver(*PHONE, language=lang)
        try:
            driver.get(f"{base}/objects/bag-7")
            assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang
            assert driver.find_element(By.ID, "object-title").text == title
            assert question in driver.find_element(By.CSS_SELECTOR, "ul.questions").text
            img = driver.find_element(By.CSS_SELECTOR, "img.object-picture")
            assert driver.execute_script("return arguments[0].naturalWidth", img) == 320
            assert driver.execute_script(
                "return document.documentElement.scrollWidth <= window.innerWidth"
            )
            shoot(driver, f"{lang}-object-page")
            driver.find_element(By.NAME, "text").send_keys(f"Rossmann, Kraków ({lang})")
            driver.find_element(By.ID, "photo").send_keys(str(photo))
            driver.execute_script("window.scrollTo(0, document.body.scrollHeight)")
            shoot(driver, f"{lang}-form-filled")
            follow(driver, By.CSS_SELECTOR, "form button[type=submit]")
            assert thanks in driver.find_element(By.TAG_NAME, "h1").text
            assert driver.find_element(By.ID, "followup-code").text
            shoot(driver, f"{lang}-receipt")
        finally:
            driver.quit()
    assert len(sink.tips) == len(CASES)
    assert all(len(t.attachments) == 1 and t.receipt for t in sink.tips)
    assert [t.channel_meta["ui_lang"] for t in sink.tips] == [c[0] for c in CASES]
