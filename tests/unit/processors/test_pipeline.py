"""The whole chain of stages, as the app runs it, without Kafka: the privacy promise end to end."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from processors.flows import TriageState, clean_flow, default_lexicon, triage_flow
from processors.runtime.steps import AsyncStep, Flow, run_steps
from processors.sender_key import SenderKeyer
from schemas import RawTip, ScoredTip, Tip
from tipline.core.metrics import Counters
from tipline.core.settings import Settings

SETTINGS = Settings()
CLEAN = clean_flow(SenderKeyer("k1", b"p" * 32))
TRIAGE = triage_flow(
    TriageState.from_settings(SETTINGS, default_lexicon(SETTINGS), None, Counters())
)


async def _await(step: AsyncStep, value: Any) -> Any:
    return await step.fn(value)


def _run(flow: Flow, value: Any) -> Any:
    return asyncio.run(run_steps(flow, value, None, _await))


class _Chain:
    """The two flows as the runners run them, minus Kafka."""

    def clean(self, raw: RawTip) -> Tip:
        tip: Tip = _run(CLEAN, raw)
        return tip

    def triage(self, tip: Tip) -> ScoredTip:
        scored: ScoredTip = _run(TRIAGE, tip)
        return scored


PIPELINE = _Chain()


def raw(tip_id: str, body: str, sender: str, **meta: str) -> RawTip:
    return RawTip(
        tip_id=tip_id,
        channel="email",
        received_at=datetime(2026, 11, 20, tzinfo=UTC),
        object_ref="9",
        subject="Re: object 9",
        body=body,
        channel_meta={"sender": sender, **meta},
    )


@pytest.mark.parametrize(
    ("body", "identifying"),
    [
        ("Rossmann in Wien. Schreib mir: anna.berger@example.at", ["anna.berger@example.at"]),
        ("Sac Leclerc vu à Lyon, appelez-moi au 06 12 34 56 78", ["06 12 34 56 78"]),
        ("Biedronka, Kraków. Nazywam się Jan Kowalski.", ["Jan Kowalski"]),
        ("Lidl bag, my IBAN is DE89 3704 0044 0532 0130 00", ["DE89 3704 0044 0532 0130 00"]),
    ],
)
def test_nothing_identifying_survives_the_chain(body: str, identifying: list[str]) -> None:
    tip = raw("t-1", body, "tipster@example.org", ip="203.0.113.5", received="from mx.example")
    scored = PIPELINE.triage(PIPELINE.clean(tip))
    dumped = scored.model_dump_json()
    for value in [*identifying, "tipster@example.org", "203.0.113.5", "mx.example"]:
        assert value not in dumped
    assert scored.sender_key and scored.sender_key.startswith("k1:")
    assert scored.score_version
    assert scored.cluster is not None


def test_evidence_and_reasons_survive_the_chain() -> None:
    scored = PIPELINE.triage(
        PIPELINE.clean(raw("t-2", "Die Tasche gibt es bei Rossmann in Wien, seit 2019.", "a@b.at"))
    )
    assert scored.language == "de"
    assert "Rossmann" in scored.evidence.shops
    assert "AT" in scored.evidence.countries
    assert any("Rossmann" in r.text for r in scored.reasons)
