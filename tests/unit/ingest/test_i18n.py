"""The 31 interface languages: every catalogue has every key, placeholders survive translation,
and Accept-Language / the switcher reach each language."""

from __future__ import annotations

import json
import re

import pytest

from ingest.i18n import ALIASES, LANGUAGES, LOCALES_DIR, direction, negotiate

ENGLISH = json.loads((LOCALES_DIR / "en.json").read_text(encoding="utf-8"))
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
# The public site's languages (issue #12); the interface must offer exactly these.
SITE = {
    "bg", "hr", "cs", "da", "nl", "en", "et", "fi", "fr", "de", "el", "hu", "is", "ga", "it",
    "lv", "lt", "lb", "mk", "mt", "nb", "pl", "pt", "ro", "ru", "gd", "sk", "sl", "es", "sv", "uk",
}  # fmt: skip


def _catalogue(lang: str) -> dict[str, str]:
    data = json.loads((LOCALES_DIR / f"{lang}.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_the_site_languages_are_offered() -> None:
    assert set(LANGUAGES) == SITE
    assert {p.stem for p in LOCALES_DIR.glob("*.json")} == SITE


@pytest.mark.parametrize("lang", sorted(SITE))
def test_every_key_exists(lang: str) -> None:
    messages = _catalogue(lang)
    assert sorted(set(ENGLISH) - set(messages)) == [], "missing keys"
    assert sorted(set(messages) - set(ENGLISH)) == [], "keys English does not have"


@pytest.mark.parametrize("lang", sorted(SITE - {"en"}))
def test_placeholders_survive_and_texts_are_translated(lang: str) -> None:
    messages = _catalogue(lang)
    for key, text in ENGLISH.items():
        assert set(_PLACEHOLDER.findall(messages[key])) == set(_PLACEHOLDER.findall(text)), key
    same = [k for k in ENGLISH if messages[k] == ENGLISH[k]]
    assert len(same) <= 1, same


@pytest.mark.parametrize("lang", sorted(SITE))
def test_accept_language_and_the_switch_reach_every_language(lang: str) -> None:
    assert negotiate(f"{lang}-XX,en;q=0.5") == lang
    assert negotiate("de-DE,de;q=0.9", lang) == lang
    assert direction(lang) == "ltr"


@pytest.mark.parametrize("tag", ["no", "nn", "nn-NO", "no-NO"])
def test_norwegian_variants_get_the_norwegian_pages(tag: str) -> None:
    assert negotiate(tag) == "nb"
    assert ALIASES[tag.split("-", maxsplit=1)[0]] == "nb"


def test_arabic_would_be_right_to_left() -> None:
    assert direction("ar") == "rtl"
