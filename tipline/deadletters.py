"""Reading the dead-letter topic back, for operators and tests."""

from __future__ import annotations

from kafka import KafkaConsumer, TopicPartition

from schemas import DeadLetter


def read_dead_letters(bootstrap: str, topic: str, timeout_s: float = 2.0) -> list[DeadLetter]:
    """Every dead letter currently on ``topic``, oldest first per partition.

    Partitions are assigned by hand (no consumer group) so reading joins nothing and commits
    nothing: it never disturbs the workers.
    """
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap.split(","),
        enable_auto_commit=False,
        consumer_timeout_ms=int(timeout_s * 1000),
        client_id="tipline-dead-reader",
    )
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        consumer.assign([TopicPartition(topic, p) for p in sorted(partitions)])
        consumer.seek_to_beginning()
        return [DeadLetter.model_validate_json(record.value) for record in consumer]
    finally:
        consumer.close()
