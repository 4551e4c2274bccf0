"""The embedded broker's memory, kept across a clean stop: spill at stop, re-send at start.

Tansu (the embedded broker) holds topics in memory only. So when `tipline run` stops, after the
workers drained what they could and stopped, every record the workers' group has not committed
on tips.raw, tips.clean and tips.scored, and every dead letter younger than the retention, is
written to ``<data_dir>/spill/spill-<time>.jsonl`` (file 0600 in a 0700 directory, fsync'd,
renamed into place). The next start re-produces those records onto the same topics and
partitions (acks=all) *before* any worker or intake starts, then deletes the file.

Only what the pipeline needs is written. A tips.raw record is the one that carries the channel's
metadata (IP, mail headers, handles); the stages read nothing of it but the sender's identity,
and that only to derive the sender key (processors/redact.py). So a raw tip is spilled with its
``channel_meta`` replaced by the already-derived key (``spilled_sender_key``, an HMAC that names
nobody) and nothing else; a raw record that does not even parse as a tip is spilled scrubbed as
its dead letter would be (processors/deadletter.py), since that is all it will become. The other
topics hold redacted tips and scrubbed dead letters already.

Re-sending is at-least-once: a record whose output the sink had already stored is stored again
as a no-op (``ON CONFLICT (tip_id) DO NOTHING``). Apache Kafka keeps its logs itself:
production never spills.

What this cannot save: anything on the broker when the broker process itself dies (SIGKILL,
power loss) — there is no clean stop to spill at.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from processors.sender_key import SPILLED_KEY_META, SenderKeyer
from schemas import DeadLetter, RawTip
from tipline.core.topics import Topics
from tipline.lag import committed_offsets, high_water_marks

log = logging.getLogger(__name__)

SPILL_DIR = "spill"


@dataclass(frozen=True)
class Spilled:
    """One record as it was on the broker."""

    topic: str
    partition: int
    key: bytes | None
    value: bytes

    def line(self) -> str:
        return json.dumps(
            {
                "topic": self.topic,
                "partition": self.partition,
                "key": base64.b64encode(self.key).decode() if self.key is not None else None,
                "value": base64.b64encode(self.value).decode(),
            }
        )

    @classmethod
    def parse(cls, line: str) -> Spilled:
        data = json.loads(line)
        key = data["key"]
        return cls(
            topic=data["topic"],
            partition=int(data["partition"]),
            key=base64.b64decode(key) if key is not None else None,
            value=base64.b64decode(data["value"]),
        )


def _read(
    consumer: KafkaConsumer, starts: dict[TopicPartition, int], timeout_s: float
) -> Iterator[Spilled]:
    """Every record from ``starts`` to each partition's real end."""
    if not starts:
        return
    _, ends = high_water_marks(consumer, list(starts), timeout_s)
    pending = {tp for tp, start in starts.items() if ends[tp] > start}
    if not pending:
        return
    consumer.assign(sorted(pending))
    for tp in pending:
        consumer.seek(tp, starts[tp])
    deadline = time.monotonic() + max(timeout_s, 5.0) * 6
    while pending:
        if time.monotonic() > deadline:
            missing = {f"{tp.topic}[{tp.partition}]" for tp in pending}
            raise TimeoutError(f"could not read to the end of {sorted(missing)}")
        batch = consumer.poll(timeout_ms=200, max_records=10_000)
        for tp, records in batch.items():
            for record in records:
                if record.offset < ends[tp]:
                    yield Spilled(tp.topic, tp.partition, record.key, record.value)
        for tp in list(pending):
            if consumer.position(tp) >= ends[tp]:
                pending.discard(tp)
    consumer.assign([])


def minimise_raw(value: bytes, sender_keys: SenderKeyer) -> bytes:
    """A tips.raw record with only what the stages need: its channel_meta becomes the derived
    sender key (or nothing); a record that is no tip is scrubbed as its dead letter would be."""
    try:
        raw = RawTip.model_validate_json(value)
    except ValueError:
        # Imported here: the redactor's rules load only when a stop has such a record to keep.
        from processors.deadletter import sanitise_payload

        return sanitise_payload(value).encode()
    identity = raw.channel_meta.get("sender")
    meta: dict[str, str | list[str]] = {}
    if isinstance(identity, str):
        meta[SPILLED_KEY_META] = sender_keys(raw.channel, identity)
    return raw.model_copy(update={"channel_meta": meta}).model_dump_json().encode()


def collect(
    bootstrap: str,
    topics: Topics,
    group: str,
    retention: timedelta,
    *,
    sender_keys: SenderKeyer,
    timeout_s: float = 5.0,
) -> list[Spilled]:
    """What a stop would lose: uncommitted stream records (raw tips minimised), and dead
    letters within retention."""
    committed = committed_offsets(bootstrap, group, timeout_s)
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap.split(","),
        enable_auto_commit=False,
        client_id="tipline-spill",
        fetch_max_wait_ms=100,
    )
    try:
        streams: dict[TopicPartition, int] = {}
        dead: dict[TopicPartition, int] = {}
        for topic in (topics.raw, topics.clean, topics.scored, topics.dead):
            for p in sorted(consumer.partitions_for_topic(topic) or ()):
                tp = TopicPartition(topic, p)
                if topic == topics.dead:
                    dead[tp] = 0
                else:
                    streams[tp] = committed.get(tp, 0)
        records = [
            Spilled(r.topic, r.partition, r.key, minimise_raw(r.value, sender_keys))
            if r.topic == topics.raw
            else r
            for r in _read(consumer, streams, timeout_s)
        ]
        oldest = datetime.now(UTC) - retention
        for record in _read(consumer, dead, timeout_s):
            if _dead_letter_time(record.value) >= oldest:
                records.append(record)
    finally:
        consumer.close()
    return records


def _dead_letter_time(value: bytes) -> datetime:
    try:
        return DeadLetter.model_validate_json(value).failed_at
    except ValueError:
        return datetime.now(UTC)  # unreadable: keep it, an operator should see it


def write(spill_dir: Path, records: list[Spilled]) -> Path | None:
    """Write the records durably (fsync, then rename); None when there is nothing to keep."""
    if not records:
        return None
    spill_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    final = spill_dir / f"spill-{datetime.now(UTC):%Y%m%dT%H%M%S%f}.jsonl"
    partial = final.with_suffix(".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        for record in records:
            out.write(record.line() + "\n")
        out.flush()
        os.fsync(out.fileno())
    partial.rename(final)
    dir_fd = os.open(spill_dir, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return final


def spill(
    bootstrap: str,
    topics: Topics,
    group: str,
    spill_dir: Path,
    retention: timedelta,
    *,
    sender_keys: SenderKeyer,
) -> int:
    """Collect and write; returns how many records were kept."""
    records = collect(bootstrap, topics, group, retention, sender_keys=sender_keys)
    path = write(spill_dir, records)
    if path is not None:
        by_topic: dict[str, int] = {}
        for record in records:
            by_topic[record.topic] = by_topic.get(record.topic, 0) + 1
        log.info("spilled %d records to %s: %s", len(records), path, by_topic)
    return len(records)


def restore(bootstrap: str, spill_dir: Path, timeout_s: float = 30.0) -> int:
    """Re-send every spill file's records (acks=all), deleting each file once acknowledged."""
    files = sorted(spill_dir.glob("spill-*.jsonl")) if spill_dir.is_dir() else []
    if not files:
        return 0
    producer = KafkaProducer(
        bootstrap_servers=bootstrap.split(","),
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        client_id="tipline-spill",
    )
    total = 0
    try:
        for path in files:
            records = [Spilled.parse(line) for line in path.read_text().splitlines() if line]
            futures = [
                producer.send(r.topic, key=r.key, value=r.value, partition=r.partition)
                for r in records
            ]
            producer.flush(timeout=timeout_s)
            for future in futures:
                future.get(timeout=timeout_s)
            path.unlink()
            total += len(records)
            log.info("re-sent %d spilled records from %s", len(records), path.name)
    finally:
        producer.close(timeout=timeout_s)
    return total
