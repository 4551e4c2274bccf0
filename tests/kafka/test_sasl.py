"""SASL against the real cluster, through the settings: the same options reach the admin client
(`tipline topics`), the one producer, the lag reader and the worker (faust's consumer and
producer); a wrong password is refused."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from kafka import KafkaConsumer
from kafka.errors import KafkaError
from pydantic import SecretStr

from ingest.producer import TipProducer
from schemas import RawTip
from tests.integration.conftest import SECRET, Worker, count_rows, settings_env, wait_for
from tests.kafka.cluster import SASL_PASSWORD, SASL_USER, KafkaCluster
from tipline.core.security import kafka_python_options
from tipline.core.settings import Settings
from tipline.core.topics import Topics, ensure_topics
from tipline.lag import consumer_lag


def sasl_settings(cluster: KafkaCluster, mechanism: str, password: str, **more: object) -> Settings:
    return Settings(
        kafka=cluster.sasl_bootstrap,
        topic_prefix=f"s{uuid.uuid4().hex[:6]}.",
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_mechanism=mechanism,  # type: ignore[arg-type]
        kafka_sasl_username=SASL_USER,
        kafka_sasl_password=SecretStr(password),
        **more,  # type: ignore[arg-type]
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
    with TipProducer.from_settings(settings) as producer:
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


def test_worker_runs_the_pipeline_over_sasl_plain(
    cluster: KafkaCluster, database_url: str, tmp_path: Path
) -> None:
    """The worker's faust app (consumer, producer, group coordinator) and the sink, with the
    cluster's SASL listener as its only way in: a tip submitted over SASL ends as a row."""
    tag = uuid.uuid4().hex[:6]
    settings = sasl_settings(
        cluster,
        "PLAIN",
        SASL_PASSWORD,
        database_url=database_url,
        app_id=f"sasl-{tag}",
        data_dir=tmp_path / "data",
        partitions=3,
        sender_key_secret=SECRET,
    )
    assert settings.kafka
    ensure_topics(
        settings.kafka, Topics.from_settings(settings), 3, 3, **kafka_python_options(settings)
    )
    env = settings_env(settings) | {
        "TIPLINE_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "TIPLINE_KAFKA_SASL_MECHANISM": "PLAIN",
        "TIPLINE_KAFKA_SASL_USERNAME": SASL_USER,
        "TIPLINE_KAFKA_SASL_PASSWORD": SASL_PASSWORD,
    }
    worker = Worker(env=env, log_path=tmp_path / "worker.log")
    worker.start()
    try:
        with TipProducer.from_settings(settings) as producer:
            producer.submit(
                RawTip(
                    tip_id="sasl-worker-1",
                    channel="web",
                    received_at=datetime.now(UTC),
                    object_ref="7",
                    body="Saw this bag in a shop in Graz",
                )
            )
        wait_for(lambda: count_rows(database_url) == 1, 120, "the tip stored through SASL")
    finally:
        worker.stop()
