"""Topic names and creation. Topics are created explicitly: a broker that auto-creates them
(Tansu, or Kafka with auto-create on) would pick its own partition count."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from tipline.core.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Topics:
    """The four topics of the pipeline, with the operator's prefix applied."""

    raw: str
    clean: str
    scored: str
    dead: str

    @classmethod
    def from_settings(cls, settings: Settings) -> Topics:
        return cls(
            raw=settings.topic("tips.raw"),
            clean=settings.topic("tips.clean"),
            scored=settings.topic("tips.scored"),
            dead=settings.topic("tips.dead"),
        )

    def all(self) -> tuple[str, ...]:
        return (self.raw, self.clean, self.scored, self.dead)


def topic_configs(settings: Settings, topics: Topics) -> dict[str, dict[str, str]]:
    """Per-topic broker settings tipline owns. The raw topic still carries channel metadata
    (addresses, handles), so it keeps a tip only ``raw_retention_hours``; the other topics keep
    the broker's default."""
    return {topics.raw: {"retention.ms": str(int(settings.raw_retention_hours * 3_600_000))}}


def ensure_topics(
    bootstrap: str,
    topics: Topics,
    partitions: int,
    replication: int,
    *,
    timeout_s: float = 30,
    configs: Mapping[str, Mapping[str, str]] | None = None,
    **client_options: Any,
) -> None:
    """Create any missing topic; existing ones keep their partitions. ``configs`` (per topic)
    are set on new topics and applied to existing ones, so a changed retention takes effect at
    the next `tipline topics`."""
    configs = configs or {}
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            admin = KafkaAdminClient(
                bootstrap_servers=bootstrap.split(","), client_id="tipline-admin", **client_options
            )
            break
        except KafkaError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    try:
        existing = set(admin.list_topics())
        missing = [name for name in topics.all() if name not in existing]
        for name in missing:
            try:
                settings = dict(configs.get(name, {}))
                admin.create_topics(
                    [NewTopic(name, partitions, replication, topic_configs=settings)]
                )
                log.info("created topic %s with %d partitions", name, partitions)
            except TopicAlreadyExistsError:
                pass  # another process won the race
            except KafkaError as exc:
                raise RuntimeError(f"could not create topic {name}: {exc}") from exc
        update = [
            ConfigResource(ConfigResourceType.TOPIC, name, configs=dict(values))
            for name, values in configs.items()
            if name in existing and values
        ]
        if update:
            admin.alter_configs(update)
            log.info("applied topic settings to %s", ", ".join(r.name for r in update))
    finally:
        admin.close()
