"""The log set-up keeps the Kafka clients' loggers at INFO or above, whatever the root level:
at DEBUG they print raw record bytes, that is, a tip's text."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from mode.utils.logging import setup_logging as faust_setup_logging

from tipline.core import logs

TIP_TEXT = "the bag is at Anna Berger's flat"


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    names = (
        "kafka",
        "kafka.conn",
        "kafka.protocol.parser",
        "aiokafka",
        "aiokafka.conn",
        "faust",
        "faust.topics",
    )
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)


def configure(level: str, log_format: str = "text") -> None:
    """``logs.configure`` as at a real start, where basicConfig finds no handler yet (pytest's
    capturing handler would make it a no-op)."""
    logging.getLogger().handlers[:] = []
    logs.configure(level, log_format)


def chatter() -> None:
    """What the clients and our own code log during a run with debug logging."""
    logging.getLogger("kafka.conn").debug("Received correlation id 7: %r", TIP_TEXT.encode())
    logging.getLogger("aiokafka.consumer.fetcher").debug("record value %r", TIP_TEXT.encode())
    logging.getLogger("faust.topics").debug("send: topic=tips.clean v=%r", TIP_TEXT.encode())
    logging.getLogger("aiokafka.consumer.group_coordinator").info("aiokafka-rebalance-info")
    logging.getLogger("kafka.client").warning("kafka-warning-shown")
    logging.getLogger("tipline.test").debug("tipline-debug-shown tip t-1")


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_debug_logging_prints_no_record_bytes(
    log_format: str, capsys: pytest.CaptureFixture[str]
) -> None:
    configure("debug", log_format)
    chatter()
    err = capsys.readouterr().err
    assert "tipline-debug-shown" in err  # the root level really is DEBUG
    assert "aiokafka-rebalance-info" in err and "kafka-warning-shown" in err
    assert TIP_TEXT not in err
    for name in ("kafka", "aiokafka", "faust"):
        assert logging.getLogger(name).getEffectiveLevel() >= logging.INFO


def test_a_client_logger_lowered_by_hand_is_still_filtered(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure("debug")
    logging.getLogger("kafka.protocol.parser").setLevel(logging.DEBUG)  # someone debugging
    logging.getLogger("kafka.protocol.parser").debug("bytes %r", TIP_TEXT.encode())
    assert TIP_TEXT not in capsys.readouterr().err
    logs.guard_client_loggers()  # and the next guard puts its level back
    assert logging.getLogger("kafka.protocol.parser").level == logging.NOTSET


def test_after_faust_replaces_the_handlers_the_guard_holds_again(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure("info")
    faust_setup_logging(loglevel="debug")  # what faust's worker does when it starts
    logs.guard_client_loggers()  # what our worker's on_setup_root_logger does next
    chatter()
    err = capsys.readouterr().err
    assert "tipline-debug-shown" in err
    assert TIP_TEXT not in err


def _transport_log_of(fail: Callable[[], object]) -> str:
    """What kafka-python's transport logger prints when its reader hits what ``fail`` raises."""
    logs.configure("info")
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    transport = logging.getLogger("kafka.net.transport")
    transport.addHandler(handler)
    try:
        try:
            fail()
        except Exception:
            transport.exception("%s: Error receiving network data closing socket", "<conn>")
    finally:
        transport.removeHandler(handler)
    return out.getvalue()


def _recv_on_closed_socket() -> object:
    sock: Any = None  # what kafka-python's reader finds after a concurrent close()
    return sock.recv(4096)


def _reset_by_peer() -> object:
    raise ConnectionResetError("reset by peer")


def test_kafka_pythons_closed_socket_race_is_one_warning_line_without_traceback() -> None:
    text = _transport_log_of(_recv_on_closed_socket)
    assert "Traceback" not in text
    assert "Error receiving network data closing socket (socket already closed" in text


def test_other_kafka_errors_keep_their_traceback() -> None:
    assert "Traceback" in _transport_log_of(_reset_by_peer)
