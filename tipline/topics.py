"""Topic names and creation. Topics are created explicitly: a broker that auto-creates them
(Tansu, or Kafka with auto-create on) would pick its own partition count."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from tipline.settings import Settings

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


def ensure_topics(
    bootstrap: str, topics: Topics, partitions: int, replication: int, timeout_s: float = 30
) -> None:
    """Create any missing topic; existing ones are left as they are."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            admin = KafkaAdminClient(
                bootstrap_servers=bootstrap.split(","), client_id="tipline-admin"
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
                admin.create_topics([NewTopic(name, partitions, replication)])
                log.info("created topic %s with %d partitions", name, partitions)
            except TopicAlreadyExistsError:
                pass  # another process won the race
            except KafkaError as exc:
                raise RuntimeError(f"could not create topic {name}: {exc}") from exc
    finally:
        admin.close()
