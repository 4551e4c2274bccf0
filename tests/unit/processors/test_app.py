"""The worker's faust wiring without a broker: the TLS/SASL settings reach faust's consumer and
producer (``broker_credentials``)."""

from __future__ import annotations

import faust
from pydantic import SecretStr

from processors.app import broker_conf
from processors.runtime.backends.faust import create_app
from tipline.core.settings import Settings


def test_plaintext_worker_has_no_credentials() -> None:
    conf = broker_conf(Settings(session_timeout=7.0))
    assert conf["broker_credentials"] is None
    assert conf["broker_session_timeout"] == 7.0


def test_sasl_settings_reach_the_faust_app() -> None:
    settings = Settings(
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_mechanism="PLAIN",
        kafka_sasl_username="tipline",
        kafka_sasl_password=SecretStr("pw-0123456789"),
    )
    app = create_app("t-app", ["127.0.0.1:1"], fetch_max_wait_ms=20, **broker_conf(settings))
    credentials = app.conf.broker_credentials
    assert isinstance(credentials, faust.SASLCredentials)
    assert credentials.username == "tipline"
    assert credentials.password == "pw-0123456789"
    assert str(credentials.mechanism.value) == "PLAIN"
    assert str(credentials.protocol.value) == "SASL_PLAINTEXT"
