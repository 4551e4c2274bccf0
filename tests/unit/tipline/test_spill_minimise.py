"""What a spill file keeps of a raw tip: what the stages need and no more. The channel's
metadata (address, IP, headers) becomes the derived sender key, and the clean flow gives the
re-sent tip the same sender key it would have had."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import pytest

from processors.flows import clean_flow
from processors.redact import redact
from processors.runtime.steps import AsyncStep, run_steps
from processors.sender_key import SPILLED_KEY_META, SenderKeyer, spilled_key
from schemas import RawTip, Tip
from tipline.spill import Spilled, minimise_raw, write

KEYER = SenderKeyer("k1", b"s" * 32)
SENDER = "anna.berger@example.org"
IP = "198.51.100.7"


def raw_tip(**meta: str | list[str]) -> RawTip:
    return RawTip(
        tip_id="sp-1",
        channel="email",
        received_at=datetime(2026, 11, 20, tzinfo=UTC),
        object_ref="9",
        subject="Re: object 9",
        body="I saw the bag at the Rossmann in Graz.",
        channel_meta=dict(meta),
    )


async def _await(step: AsyncStep, value: object) -> object:
    return await step.fn(value)


def clean(raw: RawTip) -> Tip:
    import asyncio

    tip: Tip = asyncio.run(run_steps(clean_flow(KEYER), raw, None, _await))
    return tip


def test_a_raw_tip_keeps_its_text_and_only_the_derived_sender_key() -> None:
    original = raw_tip(sender=SENDER, ip=IP, **{"h:received": f"from [{IP}]"})
    kept = minimise_raw(original.model_dump_json().encode(), KEYER)
    assert SENDER.encode() not in kept and IP.encode() not in kept
    spilled = RawTip.model_validate_json(kept)
    assert spilled.channel_meta == {SPILLED_KEY_META: KEYER("email", SENDER)}
    assert spilled.model_copy(update={"channel_meta": {}}) == original.model_copy(
        update={"channel_meta": {}}
    )
    # Re-sent after the restart, the tip is cleaned to exactly what it would have been.
    assert clean(spilled) == clean(original)


def test_a_raw_tip_without_a_sender_keeps_no_metadata_at_all() -> None:
    kept = RawTip.model_validate_json(
        minimise_raw(raw_tip(ip=IP).model_dump_json().encode(), KEYER)
    )
    assert kept.channel_meta == {}
    assert redact(kept, KEYER).sender_key is None


def test_a_record_that_is_no_tip_is_kept_scrubbed_as_its_dead_letter_would_be() -> None:
    broken = b'{"tip_id": "x", "body": "call 0664 1234567", "channel_meta": {"ip": "' + IP.encode()
    kept = minimise_raw(broken, KEYER)
    assert IP.encode() not in kept and b"1234567" not in kept


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("k1:" + "0" * 32, "k1:" + "0" * 32),
        ("k1:" + "0" * 31, None),  # not a key's shape: no sender key, never an identity
        (SENDER, None),
        (["k1:" + "0" * 32], None),
    ],
)
def test_only_a_key_shaped_spilled_value_is_taken_as_the_sender_key(
    value: str | list[str], expected: str | None
) -> None:
    assert spilled_key({SPILLED_KEY_META: value}) == expected


def test_the_spill_file_is_readable_by_its_owner_only(tmp_path: os.PathLike[str]) -> None:
    path = write(tmp_path / "spill", [Spilled("tips.raw", 0, None, b"{}")])  # type: ignore[operator]
    assert path is not None
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert json.loads(path.read_text())["topic"] == "tips.raw"
