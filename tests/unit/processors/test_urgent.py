"""flag_urgent: child in danger now, a named victim or offender, in many languages; object
tips stay as they are."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ingest.i18n import LANGUAGES
from processors.urgent import FEATURE, W_URGENT, flag_urgent, signals, urgent_signals
from schemas import Reason, ScoredTip

DANGER, VICTIM, OFFENDER = (
    "reports a child in danger now",
    "names or knows the victim",
    "names or knows an offender",
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("It is happening right now, please help her", [DANGER]),
        ("Das passiert gerade in unserem Haus", [DANGER]),
        ("Elle est en danger, ça se passe maintenant", [DANGER]),
        ("La niña está en peligro", [DANGER]),
        ("Dzieje się teraz, pomóżcie jej", [DANGER]),
        ("Это происходит сейчас", [DANGER]),
        ("I know the girl in the picture", [VICTIM]),
        ("Her name is [PERSON], she lives next door", [VICTIM]),
        ("Das ist meine Nichte!", [VICTIM]),
        ("C'est ma fille sur la photo", [VICTIM]),
        ("To moja córka", [VICTIM]),
        ("Ik ken het meisje", [VICTIM]),
        ("I know who did this", [OFFENDER]),
        ("Der Mann ist mein Nachbar, er ist mein Stiefvater", [OFFENDER]),
        ("Wiem, kto to zrobił", [OFFENDER]),
        ("So chi è stato", [OFFENDER]),
        ("Я знаю, кто это сделал", [OFFENDER]),
        ("I know the child and I know who did it", [VICTIM, OFFENDER]),
    ],
)
def test_signals_in_many_languages(text: str, expected: list[str]) -> None:
    assert urgent_signals(text) == expected


def test_every_language_of_the_site_has_every_signal() -> None:
    for signal in signals():
        assert set(LANGUAGES) <= signal.languages, (signal.text, set(LANGUAGES) - signal.languages)


# Irish, Scottish Gaelic, Icelandic, Macedonian, Maltese, Luxembourgish: sentences as a
# tipster writes them (capitals, accents, punctuation, a redacted name), one per signal.
@pytest.mark.parametrize(
    ("lang", "text", "expected"),
    [
        ("ga", "Tá sé ag tarlú anois, cabhraigh léi!", [DANGER]),
        ("ga", "Tá aithne agam ar an gcailín sa phictiúr.", [VICTIM]),
        ("ga", "Tá a fhios agam cé a rinne é. Is é mo chomharsa é.", [OFFENDER]),
        ("gd", "Tha i ann an cunnart, cuir fios air na poilis.", [DANGER]),
        ("gd", "[PERSON] an t-ainm a th' oirre, tha i a' fuireach faisg oirnn.", [VICTIM]),
        ("gd", "Tha fios agam cò rinn e.", [OFFENDER]),
        ("is", "Þetta er að gerast núna, hún er í hættu!", [DANGER]),
        ("is", "Ég þekki stelpuna á myndinni.", [VICTIM]),
        ("is", "Ég veit hver gerði þetta, hann er nágranni minn.", [OFFENDER]),
        ("mk", "Ова се случува сега, помогнете ѝ!", [DANGER]),
        ("mk", "Го познавам девојчето на сликата.", [VICTIM]),
        ("mk", "Знам кој го направи ова.", [OFFENDER]),
        ("mt", "Qed jiġri issa, hi qiegħda fil-periklu!", [DANGER]),
        ("mt", "Naf lit-tifla fir-ritratt, jisimha [PERSON].", [VICTIM]),
        ("mt", "Naf min għamel dan.", [OFFENDER]),
        ("lb", "Dat geschitt grad elo, hatt ass a Gefor!", [DANGER]),
        ("lb", "Ech kennen d'Meedchen op der Foto.", [VICTIM]),
        ("lb", "Ech weess wien dat war, hien ass mäin Noper.", [OFFENDER]),
    ],
)
def test_signals_in_the_six_newer_languages(lang: str, text: str, expected: list[str]) -> None:
    assert lang in LANGUAGES
    assert urgent_signals(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # Object tips in the same six languages: a shop, a town, a year.
        "Chonaic mé an mála seo i Lidl i nGaillimh.",
        "Chunnaic mi am baga seo ann an Tesco ann an Inbhir Nis.",
        "Ég sá þessa tösku í Bónus í Reykjavík árið 2019.",
        "Ја видов оваа торба во Рамстор во Скопје.",
        "Rajt din il-borża f'Lidl il-Ħamrun.",
        "Ech hunn dës Täsch am Cactus zu Esch gesinn.",
        "Seen this bag at Rossmann in Graz, 2019",
        "Diese Tasche gibt es bei Lidl",
        "I know the manufacturer of this cup",
        "Danger red colour, sold in Poland now",
        "My daughter has the same toy from IKEA",
        "",
    ],
)
def test_object_tips_are_not_urgent(text: str) -> None:
    assert urgent_signals(text) == []


def _tip(body: str, score: int = 30) -> ScoredTip:
    return ScoredTip(
        tip_id="w-1",
        channel="web",
        received_at=datetime(2026, 12, 1, tzinfo=UTC),
        body=body,
        score=score,
        reasons=(
            Reason(feature="base", text="starting score", weight=20),
            Reason(feature="detail", text="detailed", weight=score - 20),
        ),
    )


def test_the_reason_is_first_and_the_score_still_adds_up() -> None:
    flagged = flag_urgent(_tip("I know the girl, it is happening now"))
    assert flagged.reasons[0].feature == FEATURE
    assert flagged.reasons[0].weight == W_URGENT
    assert DANGER in flagged.reasons[0].text and VICTIM in flagged.reasons[0].text
    assert flagged.score == min(100, 30 + W_URGENT)
    assert flag_urgent(flagged) == flagged


def test_a_plain_tip_is_returned_unchanged() -> None:
    tip = _tip("Rossmann in Graz")
    assert flag_urgent(tip) is tip


def test_the_score_is_clamped() -> None:
    assert flag_urgent(_tip("I know who did this", score=90)).score == 100
