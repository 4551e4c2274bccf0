"""tipline.lag against Kafka's own consumer-group tool, on the same cluster, same moment."""

from __future__ import annotations

import uuid

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.structs import OffsetAndMetadata

from tests.kafka.cluster import KafkaCluster, java
from tipline.lag import consumer_lag, total


def tool_lag(
    cluster: KafkaCluster, group: str
) -> dict[tuple[str, int], tuple[int | None, int, int | None]]:
    """(topic, partition) -> (current offset, log-end offset, lag) as kafka-consumer-groups says."""
    out = java(
        "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
        "--bootstrap-server",
        cluster.bootstrap,
        "--describe",
        "--group",
        group,
    ).stdout
    rows = {}
    for line in out.splitlines():
        cells = line.split()
        if len(cells) >= 6 and cells[0] == group:
            current = None if cells[3] == "-" else int(cells[3])
            lag = None if cells[5] == "-" else int(cells[5])
            rows[(cells[1], int(cells[2]))] = (current, int(cells[4]), lag)
    return rows


def test_lag_matches_consumer_group_command(cluster: KafkaCluster) -> None:
    topic = f"lag-{uuid.uuid4().hex[:8]}"
    group = f"g-{topic}"
    admin = KafkaAdminClient(bootstrap_servers=cluster.bootstrap.split(","))
    try:
        admin.create_topics([NewTopic(topic, 3, 3)])
    finally:
        admin.close()
    producer = KafkaProducer(bootstrap_servers=cluster.bootstrap.split(","), acks="all")
    # Uneven partitions: 40, 25 and 10 records.
    for partition, count in enumerate((40, 25, 10)):
        for i in range(count):
            producer.send(topic, value=b"x%d" % i, partition=partition)
    producer.flush()
    producer.close()

    consumer = KafkaConsumer(
        bootstrap_servers=cluster.bootstrap.split(","), group_id=group, enable_auto_commit=False
    )
    try:
        # The group commits 30 of 40, all 25, and nothing on the third partition.
        consumer.commit(
            {
                TopicPartition(topic, 0): OffsetAndMetadata(30, "", -1),
                TopicPartition(topic, 1): OffsetAndMetadata(25, "", -1),
            }
        )
    finally:
        consumer.close()

    ours = {(p.topic, p.partition): p for p in consumer_lag(cluster.bootstrap, group, [topic])}
    theirs = tool_lag(cluster, group)
    assert set(ours) == {(topic, 0), (topic, 1)} | {(topic, 2)}
    assert [(ours[tp].committed, ours[tp].end, ours[tp].lag) for tp in sorted(ours)] == [
        (30, 40, 10),
        (25, 25, 0),
        (None, 10, 10),
    ]
    for tp, (current, end, lag) in theirs.items():
        assert (ours[tp].committed, ours[tp].end) == (current, end), tp
        if lag is not None:  # the tool leaves lag blank where the group never committed
            assert ours[tp].lag == lag, tp
    assert {tp for tp, row in theirs.items() if row[0] is not None} == {(topic, 0), (topic, 1)}
    assert total(ours.values()) == 20
