"""TLS/SASL for Kafka and TLS for PostgreSQL, from the ``kafka_*`` / ``database_ssl_*`` settings.

One translation per client library, so every producer, consumer and admin client connects the
same way: kafka-python keyword arguments (the producer, `tipline topics`, lag), faust's
credentials object (the workers), and the libpq connection string (every database connection).
"""

from __future__ import annotations

import ssl
from typing import Any

from psycopg.conninfo import make_conninfo

from tipline.core.settings import Settings


def kafka_python_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for kafka-python's KafkaProducer/KafkaConsumer/KafkaAdminClient."""
    protocol = settings.kafka_security_protocol
    options: dict[str, Any] = {"security_protocol": protocol}
    if protocol.startswith("SASL"):
        if not settings.kafka_sasl_username or settings.kafka_sasl_password is None:
            raise ValueError("SASL needs TIPLINE_KAFKA_SASL_USERNAME and _PASSWORD")
        options |= {
            "sasl_mechanism": settings.kafka_sasl_mechanism,
            "sasl_plain_username": settings.kafka_sasl_username,
            "sasl_plain_password": settings.kafka_sasl_password.get_secret_value(),
        }
    if protocol.endswith("SSL"):
        for key, path in (
            ("ssl_cafile", settings.kafka_ssl_cafile),
            ("ssl_certfile", settings.kafka_ssl_certfile),
            ("ssl_keyfile", settings.kafka_ssl_keyfile),
        ):
            if path is not None:
                options[key] = str(path)
        options["ssl_check_hostname"] = True
    return options


def ssl_context(settings: Settings) -> ssl.SSLContext:
    """A verifying client TLS context from the Kafka TLS settings."""
    context = ssl.create_default_context(
        cafile=str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None
    )
    if settings.kafka_ssl_certfile:
        context.load_cert_chain(
            str(settings.kafka_ssl_certfile),
            str(settings.kafka_ssl_keyfile) if settings.kafka_ssl_keyfile else None,
        )
    return context


def faust_credentials(settings: Settings) -> Any:
    """``broker_credentials`` for faust.App (None: plaintext)."""
    import faust

    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    if protocol == "SSL":
        return faust.SSLCredentials(ssl_context(settings))
    if not settings.kafka_sasl_username or settings.kafka_sasl_password is None:
        raise ValueError("SASL needs TIPLINE_KAFKA_SASL_USERNAME and _PASSWORD")
    mechanism = settings.kafka_sasl_mechanism
    return faust.SASLCredentials(
        username=settings.kafka_sasl_username,
        password=settings.kafka_sasl_password.get_secret_value(),
        mechanism=mechanism,
        ssl_context=ssl_context(settings) if protocol == "SASL_SSL" else None,
    )


def database_conninfo(settings: Settings) -> str:
    """The database URL with the TLS settings applied (the URL's own values otherwise)."""
    assert settings.database_url is not None
    url = settings.database_url.get_secret_value()
    extra: dict[str, str] = {}
    if settings.database_ssl_mode:
        extra["sslmode"] = settings.database_ssl_mode
    if settings.database_ssl_root_cert:
        extra["sslrootcert"] = str(settings.database_ssl_root_cert)
    return make_conninfo(url, **extra) if extra else url
