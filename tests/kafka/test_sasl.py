"""SASL against the real cluster, through the settings: the same options reach the admin client
(`tipline topics`), the one producer and the lag reader; a wrong password is refused."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from kafka import KafkaConsumer
from kafka.errors import KafkaError
from pydantic import SecretStr

from ingest.producer import TipProducer
from schemas import RawTip
from tests.kafka.cluster import SASL_PASSWORD, SASL_USER, KafkaCluster
from tipline.core.settings import Settings
from tipline.core.topics import Topics, ensure_topics
from tipline.kafka_security import kafka_python_options
from tipline.lag import consumer_lag


def sasl_settings(cluster: KafkaCluster, mechanism: str, password: str) -> Settings:
    return Settings(
        kafka=cluster.sasl_bootstrap,
        topic_prefix=f"s{uuid.uuid4().hex[:6]}.",
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_mechanism=mechanism,  # type: ignore[arg-type]
        kafka_sasl_username=SASL_USER,
        kafka_sasl_password=SecretStr(password),
    )


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-512"])
def test_topics_producer_and_lag_over_sasl(cluster: KafkaCluster, mechanism: str) -> None:
    settings = sasl_settings(cluster, mechanism, SASL_PASSWORD)
    assert settings.kafka
    options = kafka_python_options(settings)
    topics = Topics.from_settings(settings)
    ensure_topics(settings.kafka, topics, 3, 3, **options)
    tip = RawTip(
        tip_id=f"sasl-{mechanism}",
        channel="web",
        received_at=datetime.now(UTC),
        object_ref="7",
        body="Saw this bag in a shop in Graz",
    )
    with TipProducer(settings.kafka, topics.raw, **options) as producer:
        producer.submit(tip)
    consumer = KafkaConsumer(
        topics.raw,
        bootstrap_servers=settings.kafka.split(","),
        group_id=f"g-{topics.raw}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=20_000,
        **options,
    )
    try:
        values = [next(iter(consumer)).value]
        consumer.commit()
    finally:
        consumer.close()
    assert RawTip.model_validate_json(values[0]).tip_id == tip.tip_id
    lags = consumer_lag(settings.kafka, f"g-{topics.raw}", [topics.raw], **options)
    assert sum(p.end for p in lags) == 1 and sum(p.lag for p in lags) == 0


def test_wrong_password_is_refused(cluster: KafkaCluster) -> None:
    settings = sasl_settings(cluster, "SCRAM-SHA-512", "not-the-password")
    assert settings.kafka
    with pytest.raises(KafkaError):
        ensure_topics(
            settings.kafka,
            Topics.from_settings(settings),
            3,
            3,
            timeout_s=5,
            **kafka_python_options(settings),
        )
