"""Tests for processors.language: per-language table, und cases, determinism, quality gate."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processors.language import (
    _DETECTORS,
    SUPPORTED,
    UNDETERMINED,
    clean_text,
    detect_language,
    identify,
)
from schemas import RawTip, Tip

DATA = Path(__file__).resolve().parents[2] / "data" / "language" / "sentences.tsv"
FOREIGN = DATA.with_name("foreign.tsv")


def _tip(body: str, subject: str = "") -> Tip:
    return Tip(
        tip_id="t-1",
        channel="web",
        received_at=datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
        subject=subject,
        body=body,
    )


# One tip-like sentence per language, written for this test (not taken from the eval set
# and not used to choose thresholds).
PER_LANGUAGE = [
    ("bg", "Видях тази чанта в магазин в Пловдив миналата година, мисля че е от Лидл."),
    ("cs", "Tu tašku jsem viděla v obchodě v Brně, myslím, že se prodávala v Tescu."),
    ("da", "Jeg har set den taske i en butik i Aarhus, den blev solgt i Netto sidste år."),
    ("de", "Die Tasche habe ich letzten Sommer bei Rossmann in Graz gesehen, glaube ich."),
    ("el", "Είδα αυτή την τσάντα σε ένα κατάστημα στη Θεσσαλονίκη πέρσι το καλοκαίρι."),
    ("en", "I think I saw this bag in a supermarket in Leeds last winter, near the tills."),
    ("es", "Creo que vi esta bolsa en un supermercado de Valencia el verano pasado."),
    ("et", "Ma nägin seda kotti eelmisel suvel ühes Tartu poes, see oli müügil Rimis."),
    ("fi", "Näin tämän laukun viime kesänä kaupassa Tampereella, sitä myytiin Prismassa."),
    ("fr", "J'ai vu ce sac dans un supermarché à Lyon l'été dernier, près des caisses."),
    ("ga", "Chonaic mé an mála seo i siopa i nGaillimh anuraidh, bhí sé ar díol ansin."),
    ("hr", "Vidjela sam ovu torbu u dućanu u Splitu prošlog ljeta, mislim da je iz Konzuma."),
    ("hu", "Ezt a táskát tavaly nyáron láttam egy debreceni boltban, a pénztár mellett."),
    ("it", "Ho visto questa borsa in un negozio a Bologna l'estate scorsa, vicino alle casse."),
    ("lt", "Mačiau šį krepšį parduotuvėje Kaune praėjusią vasarą, jis buvo parduodamas Maximoje."),
    ("lv", "Es redzēju šo somu veikalā Rīgā pagājušajā vasarā, to pārdeva Rimi veikalā."),
    ("mt", "Rajt din il-borża f'ħanut il-Belt Valletta s-sajf li għadda, qrib il-kaxxa."),
    ("nl", "Ik heb deze tas vorige zomer in een winkel in Utrecht gezien, bij de kassa."),
    ("pl", "Widziałam tę torbę w sklepie w Krakowie zeszłego lata, chyba w Biedronce."),
    ("pt", "Vi esta mala numa loja em Braga no verão passado, perto das caixas."),
    ("ro", "Am văzut această geantă într-un magazin din Cluj vara trecută, lângă casă."),
    ("sk", "Túto tašku som videla v obchode v Košiciach minulé leto, predávala sa v Tescu."),
    ("sl", "To torbo sem videla v trgovini v Mariboru lansko poletje, prodajali so jo v Sparu."),
    ("sv", "Jag såg den här väskan i en affär i Göteborg förra sommaren, vid kassorna."),
    ("ru", "Я видела эту сумку в магазине в Казани прошлым летом, рядом с кассами."),
    ("uk", "Я бачила цю сумку в магазині у Львові минулого літа, біля кас."),
    ("tr", "Bu çantayı geçen yaz İzmir'de bir markette gördüm, kasaların yanındaydı."),
    ("ar", "رأيت هذه الحقيبة في متجر في عمّان الصيف الماضي، بالقرب من الصناديق."),
    ("is", "Ég sá þessa tösku í búð í Reykjavík síðasta sumar, hún var til sölu í Bónus."),
    ("lb", "Ech hunn dës Täsch d'lescht Joer an engem Buttek zu Esch gesinn, bei der Keess."),
    ("mk", "Ја видов оваа торба во една продавница во Битола минатото лето, кај касата."),
    ("nb", "Jeg så denne vesken i en butikk i Bergen i fjor sommer, jeg tror den var fra Rema."),
    ("nn", "Eg såg denne veska i ein butikk i Førde i fjor sommar, eg trur ho kom frå Kiwi."),
    ("gd", "Chunnaic mi am baga seo ann am bùth ann an Inbhir Nis an-uiridh, bha e ri reic."),
]

# Close pairs, short: the sentences a tip is made of ("I saw it in ..."), written for this test.
CLOSE_PAIRS = [
    ("sl", "Videla sem jo v trgovini."),
    ("hr", "Vidjela sam je u dućanu."),
    # Read as sl before the sl-hr table ("crna" is Croatian, Slovenian "črna").
    ("hr", "Torba je bila crna."),
    ("cs", "Viděl jsem to v obchodě."),
    ("sk", "Videl som to v obchode."),
    ("uk", "Я бачив це в магазині."),
    ("ru", "Я видел это в магазине."),
    ("bg", "Видях го в магазина вчера."),
    ("mk", "Го видов во продавницата вчера."),
    ("da", "Jeg så den i en butik i går."),
    ("nb", "Jeg så den i en butikk i går."),
    ("nn", "Eg såg han i ein butikk i går."),
    ("sv", "Jag såg den i en affär i går."),
    ("ga", "Chonaic mé é i siopa inné."),
    ("gd", "Chunnaic mi e ann am bùth an-dè."),
]


def test_table_covers_every_supported_language() -> None:
    assert sorted(lang for lang, _ in PER_LANGUAGE) == sorted(SUPPORTED)


@pytest.mark.parametrize(("expected", "body"), PER_LANGUAGE)
def test_detects_each_supported_language(expected: str, body: str) -> None:
    tip = detect_language(_tip(body))
    assert tip.language == expected
    assert 0.5 <= tip.language_confidence <= 1.0


# Known wrong answers, each strict: when one comes out right its mark must go.
KNOWN_MISSES = {
    "Видях го в магазина вчера.": "read as ru (0.58): heliport scores it Russian and outweighs "
    "py3langid's bg 0.46; the sum is still right on 14 more dev sentences than py3langid alone",
}


@pytest.mark.parametrize(
    ("expected", "body"),
    [
        pytest.param(lang, body, marks=pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[body]))
        if body in KNOWN_MISSES
        else (lang, body)
        for lang, body in CLOSE_PAIRS
    ],
)
def test_close_pairs_in_short_sentences(expected: str, body: str) -> None:
    assert identify(body).language in (expected, UNDETERMINED)


def test_close_pairs_are_mostly_decided() -> None:
    """``und`` is allowed on a hard short pair, but not as the usual answer."""
    decided = [identify(body).language == lang for lang, body in CLOSE_PAIRS]
    assert sum(decided) >= len(CLOSE_PAIRS) - 2


@pytest.mark.parametrize(
    "body",
    [
        # Languages the site does not offer: never a confident wrong guess.
        "Vaig veure aquesta bossa en una botiga de Girona l'estiu passat, prop de les caixes.",
        "Saya melihat tas ini di sebuah toko di Bandung musim panas lalu, dekat kasir.",
        "我去年夏天在上海的一家商店里看到了这个包。",
        "Ndinoona bhegi iyi muchitoro kuHarare gore rapera.",
    ],
)
def test_unsupported_languages_are_und(body: str) -> None:
    assert identify(body).language == UNDETERMINED


def test_real_foreign_sentences_are_und() -> None:
    """160 real sentences in Galician, Faroese, Afrikaans and Welsh (tests/data/language): today
    98 % are ``und``. Serbian in Latin script has its own test below (data README)."""
    with FOREIGN.open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)]
    texts = [r["text"] for r in rows if r["lang"] != "sr"]
    assert len(texts) == 160
    und = sum(identify(text).language == UNDETERMINED for text in texts)
    assert und / len(texts) >= 0.95


# Serbian (ekavian, Latin script) against Croatian (ijekavian), written for this test.
SERBIAN_CROATIAN = [
    ("und", "Videla sam ovu torbu u prodavnici u Beogradu prošle nedelje, mislim na popustu."),
    ("und", "Video sam je juče u prodavnici."),
    ("und", "Takođe sam primetio da je torba bila iz Srbije, videćemo posle."),
    ("hr", "Vidio sam je jučer u trgovini."),
    ("hr", "Tijekom prošlog tjedna vidjela sam torbu u dućanu."),
]


@pytest.mark.parametrize(("expected", "body"), SERBIAN_CROATIAN)
def test_serbian_is_not_read_as_croatian(expected: str, body: str) -> None:
    assert identify(body).language == expected


def test_real_serbian_sentences_are_rarely_confident_croatian() -> None:
    """The 197 real Serbian sentences of foreign.tsv (UD Serbian-SET news): both models read
    them as Croatian; the sr-hr word table makes 60 % ``und`` today and caps the confidence of
    most others (6 % confident hr, was 97 %). Many are also correct Croatian ("Međutim, prodaja
    nije išla glatko."), so they cannot all be und."""
    with FOREIGN.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    texts = [r["text"] for r in rows if r["lang"] == "sr"]
    assert len(texts) == 197
    answers = [identify(text) for text in texts]
    und = sum(a.language == UNDETERMINED for a in answers)
    confident_hr = sum(a.language == "hr" and a.confidence >= 0.8 for a in answers)
    assert und / len(texts) >= 0.55
    assert confident_hr / len(texts) <= 0.10


@pytest.mark.parametrize(
    ("pair", "text", "sign"),
    [
        ("sr-hr", "takođe sam video tokom vremena", 1),
        ("sr-hr", "također sam vidio tijekom vremena", -1),
        ("da-no", "hvad har du gjort efter det", 1),
        ("da-no", "hva har du gjort etter det", -1),
        ("sl-hr", "kupil sem kolo v trgovini", 1),
        ("sl-hr", "kupio sam bicikl u dućanu", -1),
        ("mk-bg", "го видов во продавницата минатата недела", 1),
        ("mk-bg", "видях го в магазина миналата седмица", -1),
        ("cs-sk", "viděl jsem to v obchodě minulý týden", 1),
        ("cs-sk", "videl som to v obchode minulý týždeň", -1),
    ],
)
def test_close_pair_tables_point_the_right_way(pair: str, text: str, sign: int) -> None:
    """The word tables (close_pairs.json) score language a over b for pair "a-b"."""
    assert _DETECTORS.pair(pair).ratio(text) * sign > 1.0


def test_works_on_the_raw_tip_before_redaction() -> None:
    raw = RawTip(
        tip_id="t-2",
        channel="web",
        received_at=datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
        body="Zovem se Ivana Horvat. Torbu sam vidjela u dućanu u Zadru prošle godine.",
        channel_meta={"ip": "192.0.2.1"},
    )
    detected = detect_language(raw)
    assert isinstance(detected, RawTip)
    assert detected.language == "hr"
    assert detected.channel_meta == raw.channel_meta


@pytest.mark.parametrize(
    "body",
    [
        "",
        "   ",
        "ok",
        "OK!!",
        "Lidl",
        "https://www.example.com/product/12345?utm_source=x&ref=abc",
        "www.shop.example/de/p/4006381333931",
        "😀😀😀 👍",
        "123 456 789 +49 30 1234567",
        "[EMAIL] [PHONE] [IBAN]",
        "#123 @handle",
    ],
)
def test_und_without_language_evidence(body: str) -> None:
    tip = detect_language(_tip(body))
    assert tip.language == UNDETERMINED
    assert tip.language_confidence == 0.0


def test_placeholders_and_urls_do_not_change_the_answer() -> None:
    plain = "Die Tasche habe ich letzten Sommer bei Rossmann in Graz gesehen."
    noisy = f"[PERSON] schreibt: {plain} https://www.rossmann.de/p/123?ref=[URL_TOKEN] [PHONE]"
    assert identify(noisy).language == identify(plain).language == "de"


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("Hallo [EMAIL] Welt", "Hallo Welt"),
        ("siehe https://x.example/a?b=1 hier", "siehe hier"),
        ("Preis 12,99 € bei @shop #42", "Preis bei"),
        ("l'été — c'est ça", "l'été c'est ça"),
    ],
)
def test_clean_text(raw: str, cleaned: str) -> None:
    assert clean_text(raw) == cleaned


def test_subject_counts_as_evidence() -> None:
    tip = detect_language(_tip("", subject="Ich habe diese Tasche in Wien gesehen"))
    assert tip.language == "de"


def test_other_fields_are_untouched() -> None:
    before = _tip("Ich habe diese Tasche bei dm in Linz gesehen, sie war rot.")
    after = detect_language(before)
    assert after.model_dump(exclude={"language", "language_confidence"}) == before.model_dump(
        exclude={"language", "language_confidence"}
    )


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300))
def test_result_is_valid_and_deterministic(text: str) -> None:
    first = identify(text)
    assert first == identify(text)
    assert first.language in (*SUPPORTED, UNDETERMINED)
    assert 0.0 <= first.confidence <= 1.0
    assert (first.language == UNDETERMINED) == (first.confidence == 0.0)


def _load_eval() -> list[dict[str, str]]:
    with DATA.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))


def _language_of(code: str) -> str:
    """The site lists Norwegian as one language: Bokmål and Nynorsk score as one class."""
    return "no" if code in ("nb", "nn") else code


def _scored() -> list[tuple[dict[str, str], bool]]:
    rows = _load_eval()
    assert len({row["lang"] for row in rows}) == len(SUPPORTED)
    return [
        (row, _language_of(identify(row["text"]).language) == _language_of(row["lang"]))
        for row in rows
    ]


def test_no_regression_on_evaluation_set() -> None:
    """Today's level on the whole set (und counts wrong, Norwegian one class): 99.0 % overall,
    98.2 % under 60 characters (4,901 sentences since the second dev top-up, whose Bokmål
    bylines and headlines are harder). A change that loses more than a few sentences fails."""
    scored = _scored()
    short = [hit for row, hit in scored if len(row["text"]) < 60]
    assert sum(hit for _, hit in scored) / len(scored) >= 0.987
    assert sum(short) / len(short) >= 0.979


def test_overall_goal_on_evaluation_set() -> None:
    """Goals of issues #3/#12 over the whole set: >= 97.5 % overall, >= 96 % under 60."""
    scored = _scored()
    short = [hit for row, hit in scored if len(row["text"]) < 60]
    assert sum(hit for _, hit in scored) / len(scored) >= 0.975
    assert sum(short) / len(short) >= 0.96


@pytest.mark.xfail(
    strict=True,
    reason="issue #12 goal per language not reached on the held-out split: lv 97.3 %, "
    "sl 95.5 %, nb 97.2 % (one to three sentences each; unchanged by the sl-hr, mk-bg and cs-sk "
    "tables; da reached it with the da-no table); strict, so reaching it fails this mark",
)
def test_per_language_goal_on_held_out_split() -> None:
    """Issue #12: every language >= 97.5 %, >= 96 % under 60 characters, on the split no
    threshold was chosen on (the benchmark prints the same table)."""
    by_language: dict[str, list[tuple[bool, bool]]] = {}
    for row, hit in _scored():
        if row["split"] == "test":
            by_language.setdefault(row["lang"], []).append((hit, len(row["text"]) < 60))
    below = []
    for lang, results in sorted(by_language.items()):
        short = [hit for hit, is_short in results if is_short]
        if sum(hit for hit, _ in results) / len(results) < 0.975 or (
            short and sum(short) / len(short) < 0.96
        ):
            below.append(lang)
    assert below == []


def test_long_texts_are_decided_by_their_opening() -> None:
    """Detection reads only the first ~120 cleaned characters (for speed); paragraphs of five
    evaluation sentences must still come out right."""
    by_language: dict[str, list[str]] = {}
    for line in DATA.read_text(encoding="utf-8").splitlines()[1:]:
        lang, _split, _source, text = line.split("\t", 3)
        by_language.setdefault(lang, []).append(text)
    paragraphs = [
        (lang, " ".join(texts[i : i + 5]))
        for lang, texts in by_language.items()
        for i in range(0, len(texts) - 4, 5)
    ]
    right = sum(identify(text).language == lang for lang, text in paragraphs)
    assert len(paragraphs) > 250
    assert right / len(paragraphs) >= 0.99
