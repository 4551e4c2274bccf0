"""Security settings translated for each client: kafka-python, faust and libpq."""

from pathlib import Path

import faust
import pytest
from pydantic import SecretStr

from tipline.core.security import database_conninfo, faust_credentials, kafka_python_options
from tipline.core.settings import Settings


def test_plaintext_by_default() -> None:
    settings = Settings()
    assert kafka_python_options(settings) == {"security_protocol": "PLAINTEXT"}
    assert faust_credentials(settings) is None


def test_sasl_options_for_kafka_python_and_faust() -> None:
    settings = Settings(
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_mechanism="SCRAM-SHA-256",
        kafka_sasl_username="tipline",
        kafka_sasl_password=SecretStr("pw-0123456789"),
    )
    assert kafka_python_options(settings) == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-256",
        "sasl_plain_username": "tipline",
        "sasl_plain_password": "pw-0123456789",
    }
    credentials = faust_credentials(settings)
    assert isinstance(credentials, faust.SASLCredentials)
    assert credentials.username == "tipline"
    assert str(credentials.mechanism.value) == "SCRAM-SHA-256"


def test_sasl_without_password_is_a_clear_error() -> None:
    settings = Settings(kafka_security_protocol="SASL_SSL", kafka_sasl_username="tipline")
    with pytest.raises(ValueError, match="PASSWORD"):
        kafka_python_options(settings)


def test_tls_files_are_passed_on() -> None:
    settings = Settings(kafka_security_protocol="SSL", kafka_ssl_cafile=Path("/etc/ca.pem"))
    options = kafka_python_options(settings)
    assert options["ssl_cafile"] == "/etc/ca.pem" and options["ssl_check_hostname"] is True


def test_database_tls_is_added_to_the_url() -> None:
    settings = Settings(
        database_url=SecretStr("postgresql://u:p@db:5432/tipline"),
        database_ssl_mode="verify-full",
        database_ssl_root_cert=Path("/etc/pg-ca.pem"),
    )
    info = database_conninfo(settings)
    assert "sslmode=verify-full" in info and "sslrootcert=/etc/pg-ca.pem" in info
    assert "host=db" in info
    plain = Settings(database_url=SecretStr("postgresql://u:p@db/tipline"))
    assert database_conninfo(plain) == "postgresql://u:p@db/tipline"


def test_database_tls_overrides_what_the_url_says() -> None:
    settings = Settings(
        database_url=SecretStr("postgresql://u:p@db/tipline?sslmode=disable"),
        database_ssl_mode="require",
    )
    info = database_conninfo(settings)
    assert "sslmode=require" in info and "disable" not in info
