"""extract_evidence: countries in 28 languages, cities, shops and brands, ids, URLs, years."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processors.evidence import ean_is_valid, extract_evidence, find_evidence
from processors.lexicon import LANGUAGES, load_lexicon
from schemas import Tip
from tipline.core.errors import ConfigurationError

RECEIVED = datetime(2023, 6, 1, tzinfo=UTC)


def _tip(body: str, subject: str = "") -> Tip:
    return Tip(tip_id="t-1", channel="web", received_at=RECEIVED, subject=subject, body=body)


def _ev(text: str):  # type: ignore[no-untyped-def]
    return extract_evidence(_tip(text)).evidence


# One sentence per language, written as a tipster would (inflected where the language declines).
COUNTRY_BY_LANGUAGE = [
    ("bg", "Купих го в Полша миналата година.", "PL"),
    ("cs", "Koupeno v Německu, myslím v Drážďanech.", "DE"),
    ("da", "Jeg købte den i Tyskland.", "DE"),
    ("de", "Die Tasche kommt aus Polen.", "PL"),
    ("el", "Αγοράστηκε στη Γαλλία.", "FR"),
    ("en", "Made in Poland, says the label.", "PL"),
    ("es", "Lo compré en Francia hace años.", "FR"),
    ("et", "Ostetud Saksamaal.", "DE"),
    ("fi", "Ostettu Ruotsista viime vuonna.", "SE"),
    ("fr", "Acheté en Pologne pendant les vacances.", "PL"),
    ("ga", "Ceannaithe sa Ghearmáin.", "DE"),
    ("hr", "Kupljeno u Njemačkoj.", "DE"),
    ("hu", "Németországban vettem.", "DE"),
    ("it", "Comprato in Germania.", "DE"),
    ("lt", "Pirkta Vokietijoje.", "DE"),
    ("lv", "Pirkts Vācijā.", "DE"),
    ("mt", "Mixtri mill-Italja.", "IT"),
    ("nl", "Gekocht in Duitsland.", "DE"),
    ("pl", "Kupione w Niemczech.", "DE"),
    ("pt", "Comprado na Alemanha.", "DE"),
    ("ro", "Cumpărat din Germania.", "DE"),
    ("sk", "Kúpené v Rakúsku.", "AT"),
    ("sl", "Kupljeno v Avstriji.", "AT"),
    ("sv", "Köpt i Norge.", "NO"),
    ("ru", "Куплено в Польше.", "PL"),
    ("uk", "Куплено в Польщі.", "PL"),
    ("tr", "Almanya'dan aldım.", "DE"),
    ("ar", "صنع في الصين", "CN"),
    ("is", "Keypt í Þýskalandi.", "DE"),
    ("nb", "Kjøpt i Tyskland.", "DE"),
    ("nn", "Kjøpt i Tyskland.", "DE"),
    ("mk", "Купено во Германија.", "DE"),
    ("lb", "Kaaft an Däitschland.", "DE"),
    ("gd", "Air a cheannach sa Ghearmailt.", "DE"),
]


def test_country_table_covers_every_language() -> None:
    assert sorted(lang for lang, _, _ in COUNTRY_BY_LANGUAGE) == sorted(LANGUAGES)


@pytest.mark.parametrize(("language", "text", "country"), COUNTRY_BY_LANGUAGE)
def test_country_in_each_language(language: str, text: str, country: str) -> None:
    assert country in _ev(text).countries, language


@pytest.mark.parametrize(
    "text",
    [
        "Made in Poland",
        "z Polski",
        "aus Polen",
        "polnisch, glaube ich",
        "die polnische Aufschrift",
        "en Pologne",
        "Polska",
        "польский товар",
        "sold only in Poland",
        "w Polsce",
        "Lengyelországban",
    ],
)
def test_adjectives_and_inflected_forms_of_poland(text: str) -> None:
    assert _ev(text).countries == ("PL",)


@pytest.mark.parametrize(
    "text",
    [
        "My child loves it",  # "Chile" must not match by stem
        "a chilly day, nothing else",
        "I bought a turkey sandwich",  # "Turkey" only when capitalised
        "island holidays",  # German for Iceland, only when capitalised
        "So eine Decke hatte meine Oma auch",  # Portuguese "Omã" folds to "oma"
        "C'est la serviette de plage",  # Dutch "Servië" must not match by stem
        "the label is in English",
    ],
)
def test_ordinary_words_are_not_countries(text: str) -> None:
    assert _ev(text).countries == ()


@pytest.mark.parametrize(
    ("text", "city", "country"),
    [
        ("I bought it in a Lidl in Graz", "Graz", "AT"),
        ("kupiłam w Krakowie", "Kraków", "PL"),
        ("gekauft in München", "Munich", "DE"),
        ("acheté à Bruxelles", "Brussels", "BE"),
        ("koupeno v Praze", "Prague", "CZ"),
        ("куплено в Москве", "Moscow", "RU"),
        ("İstanbul'daki mağazadan", "Istanbul", "TR"),
        ("comprato a Milano", "Milan", "IT"),
        ("gekocht in Den Haag", "The Hague", "NL"),
    ],
)
def test_cities_and_their_country(text: str, city: str, country: str) -> None:
    ev = _ev(text)
    assert ev.cities == (city,)
    assert country in ev.countries


@pytest.mark.parametrize(
    ("text", "shops", "brands"),
    [
        ("Bought at Rossmann", ("Rossmann",), ()),
        ("z Biedronki", ("Biedronka",), ()),
        ("z Żabki", ("Żabka",), ()),
        ("bei dm gekauft", ("dm",), ()),
        ("from H&M", ("H&M",), ()),
        ("M&S kids range", ("Marks & Spencer",), ()),
        ("Sainsbury's Tu Clothing", ("Sainsbury's",), ("Tu Clothing",)),
        ("Lupilu pyjamas", ("Lidl",), ("Lupilu",)),
        ("Decathlon Quechua", ("Decathlon",), ("Quechua",)),
        ("El Corte Inglés", ("El Corte Inglés",), ()),
        ("chez Intermarche", ("Intermarché",), ()),
        ("Kruidvat huismerk", ("Kruidvat",), ()),
        ("LC Waikiki'den aldım", ("LC Waikiki",), ()),  # "aldım" is not Aldi
        ("Пятёрочка у дома", ("Pyaterochka",), ()),
        ("a Nivea bottle", (), ("Nivea",)),
        ("Aldi oder Lidl", ("Aldi", "Lidl"), ()),
    ],
)
def test_shops_brands_and_aliases(
    text: str, shops: tuple[str, ...], brands: tuple[str, ...]
) -> None:
    ev = _ev(text)
    assert ev.shops == shops
    assert ev.brands == brands


@pytest.mark.parametrize(
    "text",
    [
        "take action now",  # Action only when capitalised
        "my boots are wet",
        "the next day",
        "a penny for your thoughts",
        "netto 20 euro",
        "the reserved seats",
        "an empty dia",  # Dia only exactly as written
    ],
)
def test_shop_names_that_are_words(text: str) -> None:
    assert _ev(text).shops == ()


@pytest.mark.parametrize(
    ("digits", "valid"),
    [
        ("4006381333931", True),  # EAN-13
        ("4006381333932", False),
        ("96385074", True),  # EAN-8
        ("96385075", False),
        ("036000291452", True),  # UPC-A
        ("036000291453", False),
        ("5901234123457", True),
        ("12345", False),
        ("40063813339310", False),  # 14 digits
    ],
)
def test_ean_checksum(digits: str, valid: bool) -> None:
    assert ean_is_valid(digits) is valid


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("EAN 4006381333931 on the back", ("4006381333931",)),
        ("barcode 4 006381 333931", ("4006381333931",)),
        ("barcode 4006381333932", ()),  # bad check digit
        ("Art.-Nr. 12345 im Katalog", ("art:12345",)),
        ("nr art. 771245", ("art:771245",)),
        ("réf. 558213", ("art:558213",)),
        ("Artikelnummer: AB-1234", ("art:AB-1234",)),
        ("art. no 12", ()),  # too few digits to be an article number
    ],
)
def test_product_ids(text: str, ids: tuple[str, ...]) -> None:
    assert _ev(text).product_ids == ids


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("bought in 2019", (2019,)),
        ("sold 2019–2021", (2019, 2021)),
        ("from 2017 to 2019", (2017, 2019)),
        ("on 12.03.2018", (2018,)),
        ("it cost 2000 € back then", ()),
        ("kosztował 1990 zł", ()),
        ("a 2000 mAh battery", ()),
        ("announced for 2030", ()),  # after the tip was received: not a year
        ("Art.-Nr. 2019 in the catalogue", ()),
        ("EAN 4006381333931", ()),
        ("v roce 2019 v Praze", (2019,)),  # Czech "v" is "in", not volts
        ("number 1234 and 120000", ()),
    ],
)
def test_years_versus_other_numbers(text: str, years: tuple[int, ...]) -> None:
    assert _ev(text).years == years


@pytest.mark.parametrize(
    ("text", "urls", "shops"),
    [
        (
            "see https://www.lidl.de/p/kinder-pyjama/p100123?utm_source=x#top",
            ("https://www.lidl.de/p/kinder-pyjama/p100123",),
            ("Lidl",),
        ),
        ("tchibo.de/p/400123456", ("https://tchibo.de/p/400123456",), ("Tchibo",)),
        (
            "https://www.example-shop.com/product/98765",
            ("https://www.example-shop.com/product/98765",),
            (),
        ),
        ("https://bit.ly/3xYzAbC", (), ()),
        ("read https://example.com/blog/about-us", (), ()),
        ("www.ikea.com", ("https://www.ikea.com",), ("IKEA",)),
    ],
)
def test_urls(text: str, urls: tuple[str, ...], shops: tuple[str, ...]) -> None:
    ev = _ev(text)
    assert ev.urls == urls
    assert ev.shops == shops


def test_placeholders_are_never_evidence() -> None:
    ev = _ev("[PERSON] bought it at Lidl, call [PHONE] or [EMAIL]")
    assert ev.shops == ("Lidl",)
    assert ev.product_ids == ()
    assert ev.years == ()


def test_subject_is_read_too() -> None:
    ev = extract_evidence(_tip("see subject", subject="Rossmann 2020")).evidence
    assert ev.shops == ("Rossmann",)
    assert ev.years == (2020,)


def test_custom_lexicon_file(tmp_path: Path) -> None:
    path = tmp_path / "lexicon.toml"
    path.write_text(
        '[[shop]]\nname = "Kiosko Uno"\ncountries = ["ES"]\naliases = ["K1"]\n'
        'domains = ["kiosko1"]\n',
        encoding="utf-8",
    )
    lexicon = load_lexicon(path)
    tip = extract_evidence(_tip("comprado en Kiosko Uno, no en Lidl"), lexicon)
    assert tip.evidence.shops == ("Kiosko Uno",)


def test_bad_lexicon_file_is_a_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[[shop]]\ncountries = 3\n", encoding="utf-8")
    with pytest.raises(ConfigurationError):
        load_lexicon(path)
    with pytest.raises(ConfigurationError):
        load_lexicon(tmp_path / "missing.toml")


def test_extract_returns_a_new_tip() -> None:
    tip = _tip("Lidl in Graz 2020")
    out = extract_evidence(tip)
    assert tip.evidence.is_empty()
    assert out.evidence.shops == ("Lidl",)
    assert out.model_dump(exclude={"evidence"}) == tip.model_dump(exclude={"evidence"})


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_any_text_gives_canonical_evidence(text: str) -> None:
    ev = find_evidence(text, 2023)
    assert all(len(c) == 2 and c.isupper() for c in ev.countries)
    assert list(ev.countries) == sorted(set(ev.countries))
    assert all(1950 <= y <= 2023 for y in ev.years)
    assert all(p.startswith("art:") or ean_is_valid(p) for p in ev.product_ids)
    assert all(u.startswith("https://") and "?" not in u for u in ev.urls)
    lexicon = load_lexicon()
    assert all(s in lexicon.shops for s in ev.shops)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200), st.sampled_from(["Rossmann", "Biedronka", "IKEA", "Lidl"]))
def test_a_shop_name_is_found_in_any_surrounding(noise: str, shop: str) -> None:
    assert shop in find_evidence(f"{noise} {shop} {noise}", 2023).shops


@pytest.mark.parametrize(
    ("text", "country"),
    [
        ("The label says made in Turkey", "TR"),  # CLDR now says "Türkiye"; English tipsters don't
        ("turkey sandwich from the deli", None),  # the bird, not the country
    ],
)
def test_turkey_by_its_english_name(text: str, country: str | None) -> None:
    assert find_evidence(text, 2026).countries == ((country,) if country else ())
