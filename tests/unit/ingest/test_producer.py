"""The producer's record contract without a broker: what ``encode`` may hand to Kafka."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from ingest.producer import MAX_RECORD_BYTES, encode
from schemas import RawTip
from tipline.core.errors import RejectedContentError

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def test_oversized_channel_meta_is_trimmed_not_refused() -> None:
    meta: dict[str, str | list[str]] = {f"h:x-{i}": "\x01" * 2_000 for i in range(200)}
    meta |= {"transport": "smtp", "sender": "jg@example.org"}
    tip = RawTip(
        tip_id="m-1", channel="email", received_at=NOW, body="𝔊" * 20_000, channel_meta=meta
    )
    key, value = encode(tip)
    assert len(value) <= MAX_RECORD_BYTES
    record = json.loads(value)
    assert record["body"] == tip.body
    # What the clean stage needs from the metadata survives the trim.
    assert record["channel_meta"]["sender"] == "jg@example.org"
    assert record["channel_meta"]["meta_truncated"] == "true"
    assert key == b"m-1"


@pytest.mark.parametrize(
    "update",
    [{"body": "a\ud800b"}, {"subject": "\udcfc"}, {"channel_meta": {"h:from": "J\udcc3rgen"}}],
)
def test_lone_surrogate_is_refused_permanently(update: dict[str, object]) -> None:
    # model_copy does not validate: the path by which a surrogate once reached the producer.
    tip = RawTip(tip_id="w-1", channel="web", received_at=NOW, body="x").model_copy(update=update)
    with pytest.raises(RejectedContentError):
        encode(tip)
