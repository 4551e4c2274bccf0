"""The object's own title and questions on its public page, in every language of the site, in
real Chromium, from the reviewer database: the visitor's language when the object has texts in
it, Norwegian texts under any Norwegian code, else English marked ``lang="en"``; never an
untranslated message id around them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from ingest.i18n import LANGUAGES
from ingest.memory import MemorySink
from ingest.photos import MediaStore
from ingest.web import create_app
from tests.browser.conftest import live_server, make_driver
from tests.browser.leads_support import objects, settings_for
from tests.browser.test_languages import _check_page

# (code the editor enters, title, question): real object texts in five languages, Norwegian
# entered as Nynorsk, which the site's one Norwegian interface (nb) must still show.
TEXTS = {
    "en": ("Blue shopping bag with a red band", "Where was this bag sold?"),
    "de": ("Blaue Einkaufstasche mit rotem Streifen", "Wo wurde diese Tasche verkauft?"),
    "is": ("Blár innkaupapoki með rauðri rönd", "Hvar var þessi poki seldur?"),
    "mk": ("Сина торба за купување со црвена лента", "Каде се продавала оваа торба?"),
    "nn": ("Blå handlepose med ei raud stripe", "Kvar vart denne posen seld?"),
}
# Which texts each interface language must show: its own, the Norwegian ones, else English.
SHOWN = {lang: lang if lang in TEXTS else "en" for lang in LANGUAGES} | {"nb": "nn"}


@pytest.fixture
def intake(database_url: str, tmp_path: Path) -> Any:
    settings = settings_for(database_url, tmp_path)
    argv = ["add", "bag-7"]
    for code, (title, question) in TEXTS.items():
        argv += ["--title", f"{code}={title}", "--question", f"{code}={question}"]
    objects(settings, *argv)
    objects(settings, "publish", "bag-7")
    with live_server(create_app(settings, MemorySink(), MediaStore(tmp_path / "media"))) as base:
        yield base


def _check_object(driver: Any, lang: str) -> None:
    _check_page(driver, lang)  # the interface: the visitor's language, no message ids
    shown = SHOWN[lang]
    title, question = TEXTS[shown]
    assert driver.find_element(By.ID, "object-title").text == title, lang
    assert question in driver.find_element(By.CSS_SELECTOR, "ul.questions").text, lang
    # Object texts in another language than the page are marked with theirs.
    marked = driver.find_element(By.CSS_SELECTOR, "section.object").get_dom_attribute("lang")
    assert marked == (None if shown == lang else shown), (lang, marked)


def test_every_language_shows_the_objects_texts_or_a_marked_fallback(
    browser: Any, intake: str, shoot: Any
) -> None:
    for lang in LANGUAGES:
        browser.get(f"{intake}/objects/bag-7?lang={lang}")
        _check_object(browser, lang)
        if lang in ("mk", "nb", "mt"):
            shoot(browser, f"object-texts-{lang}")


@pytest.mark.parametrize("lang", ["is", "nn", "lt"])
def test_the_browsers_language_chooses_the_object_texts(lang: str, intake: str) -> None:
    driver = make_driver(1000, 900, language=lang)
    try:
        driver.get(f"{intake}/objects/bag-7")
        # Nynorsk readers get the Norwegian interface (nb) and the Nynorsk texts.
        _check_object(driver, "nb" if lang == "nn" else lang)
        driver.get(f"{intake}/objects/bag-7?lang=de")  # the visible switch overrides
        _check_object(driver, "de")
    finally:
        driver.quit()
