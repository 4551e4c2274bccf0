"""flag_urgent: child in danger now, a named victim or offender, in many languages; object
tips stay as they are."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from processors.urgent import FEATURE, W_URGENT, flag_urgent, urgent_signals
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


@pytest.mark.parametrize(
    "text",
    [
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
