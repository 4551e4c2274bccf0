"""Where the services are: configured ones from settings, embedded ones from the run file.

`tipline run` writes ``<data_dir>/services.json`` when it starts embedded services, so that
`tipline submit` or `tipline queue` in another terminal find them without configuration.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from pydantic import SecretStr

from tipline.core.errors import ConfigurationError
from tipline.core.settings import Settings

RUN_FILE = "services.json"
SECRET_FILE = "sender_key.secret"  # noqa: S105 - a file name, not a secret


def write_run_file(
    settings: Settings, kafka: str, database_url: str, processes: dict[str, str] | None = None
) -> Path:
    """``processes``: each child's base URL of /metrics, /healthz, /readyz (`tipline status`)."""
    path = settings.data_dir / RUN_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"kafka": kafka, "database_url": database_url, "processes": processes or {}})
    )
    return path


def running_processes(settings: Settings) -> dict[str, str]:
    """The ops URLs `tipline run` wrote (empty when nothing runs here)."""
    run_file = settings.data_dir / RUN_FILE
    if not run_file.exists():
        return {}
    found: dict[str, str] = json.loads(run_file.read_text()).get("processes", {})
    return found


def remove_run_file(settings: Settings) -> None:
    (settings.data_dir / RUN_FILE).unlink(missing_ok=True)


def sender_key_secret(settings: Settings) -> bytes:
    """The configured HMAC secret, or one generated once and kept (0600) under data_dir."""
    if settings.sender_key_secret is not None:
        return settings.sender_key_secret.get_secret_value().encode()
    return local_secret(settings, SECRET_FILE).encode()


def local_secret(settings: Settings, name: str) -> str:
    """A random secret generated once and kept (0600) under data_dir, for local runs."""
    path = settings.data_dir / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(24))
    return path.read_text().strip()


def resolve(settings: Settings) -> Settings:
    """Settings with ``kafka`` and ``database_url`` filled in, from the run file if need be."""
    if settings.kafka and settings.database_url:
        return settings
    run_file = settings.data_dir / RUN_FILE
    if not run_file.exists():
        raise ConfigurationError(
            "no Kafka/PostgreSQL configured (TIPLINE_KAFKA, TIPLINE_DATABASE_URL) and no "
            f"embedded services running ({run_file} not found): start them with `make run`"
        )
    found = json.loads(run_file.read_text())
    return settings.model_copy(
        update={
            "kafka": settings.kafka or found["kafka"],
            "database_url": settings.database_url or SecretStr(found["database_url"]),
        }
    )
