"""Which language an object's title and questions are shown in (pure: no I/O)."""

from __future__ import annotations

from typing import Any

import pytest

from ingest.web_catalogue import ObjectCatalogue, choose_texts

BAG: dict[str, dict[str, Any]] = {
    "de": {"title": "Blaue Tasche", "questions": ["Wo gekauft?"]},
    "en": {"title": "Blue bag", "description": "Found 2023.", "questions": ["Where bought?"]},
    "nn": {"title": "Blå veske", "questions": ["Kvar kjøpt?"]},
    "pl": {"title": "", "questions": ["Gdzie kupiona?"]},  # questions but no title yet
}


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("de", "de"),  # the visitor's own language
        ("nb", "nn"),  # the Norwegian interface reads Norwegian texts under any code
        ("no", "nn"),
        ("nn", "nn"),
        ("pl", "en"),  # untitled texts do not count: no half-Polish page
        ("is", "en"),  # none in the visitor's language: English
    ],
)
def test_the_visitors_language_then_related_then_english(lang: str, expected: str) -> None:
    code, chosen = choose_texts(BAG, lang)
    assert code == expected
    assert chosen is BAG[expected]


def test_without_english_the_editors_first_language() -> None:
    texts = {"fr": {"title": ""}, "it": {"title": "Borsa blu"}, "es": {"title": "Bolsa azul"}}
    assert choose_texts(texts, "de") == ("it", texts["it"])
    assert choose_texts({}, "de") == (None, {})
    assert choose_texts({"fr": {"title": ""}}, "de") == (None, {})


def test_file_catalogue_pages_carry_questions_and_their_language() -> None:
    catalogue = ObjectCatalogue({"bag-7": BAG})
    page = catalogue.page("bag-7", "is", "Object {ref}")
    assert page is not None
    assert (page.title, page.lang, page.questions) == ("Blue bag", "en", ("Where bought?",))
    assert page.description == "Found 2023."
    page = catalogue.page("bag-7", "nb", "Object {ref}")
    assert page is not None
    assert (page.title, page.lang, page.questions) == ("Blå veske", "nn", ("Kvar kjøpt?",))
    untitled = ObjectCatalogue({"bag-8": {"fr": {"title": ""}}}).page("bag-8", "fr", "Object {ref}")
    assert untitled is not None
    assert (untitled.title, untitled.lang) == ("Object bag-8", None)
