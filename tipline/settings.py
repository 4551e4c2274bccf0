"""The one settings object, read from ``TIPLINE_*`` variables once at the entry point."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob tipline has. Built once by the CLI and passed down; never read from os.environ."""

    model_config = SettingsConfigDict(env_prefix="TIPLINE_", frozen=True, extra="ignore")

    # --- services: unset means "start the embedded one" ---
    kafka: str | None = Field(
        default=None, description="Kafka bootstrap servers, e.g. 'broker1:9092,broker2:9092'."
    )
    database_url: SecretStr | None = Field(
        default=None, description="PostgreSQL URL of the reviewer database."
    )
    data_dir: Path = Field(
        default=Path(".tipline"), description="Embedded services' data, keys and media."
    )
    embedded_kafka_port: int = Field(default=19092, description="Port of the embedded broker.")

    # --- topics ---
    topic_prefix: str = Field(default="", description="Prefix for every topic (isolates tests).")
    partitions: int = Field(default=6, ge=1, description="Partitions per topic when creating.")
    replication_factor: int = Field(default=1, ge=1, description="Replicas per topic.")

    # --- workers ---
    app_id: str = Field(default="tipline", description="Faust app id = consumer-group prefix.")
    workers: int = Field(default=1, ge=1, description="Worker processes `tipline run` starts.")
    commit_interval: float = Field(
        default=1.0, gt=0, description="Seconds between offset commits (the replay window)."
    )
    session_timeout: float = Field(
        default=6.0, gt=0, description="Consumer session timeout in seconds."
    )
    heartbeat_interval: float = Field(default=1.0, gt=0, description="Heartbeat in seconds.")
    sink_batch_size: int = Field(default=500, ge=1, description="Rows per database transaction.")
    sink_batch_seconds: float = Field(
        default=0.5, gt=0, description="Longest wait to fill a sink batch."
    )
    log_level: str = Field(default="info", description="crit | error | warn | info | debug.")

    # --- privacy ---
    sender_key_secret: SecretStr | None = Field(
        default=None,
        description="HMAC key for sender keys; generated under data_dir when unset.",
    )
    sender_key_id: str = Field(
        default="k1", description="Id of the current sender-key secret (rotate: new id + secret)."
    )

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"
