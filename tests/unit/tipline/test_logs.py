"""The log set-up keeps library noise from reading like a crash of ours."""

from __future__ import annotations

import io
import logging

from tipline.core import logs


def test_kafka_pythons_closed_socket_race_is_one_warning_line_without_traceback() -> None:
    logs.configure("info")
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    transport = logging.getLogger("kafka.net.transport")
    transport.addHandler(handler)
    try:
        sock = None
        try:
            sock.recv(4096)  # type: ignore[attr-defined]  # what kafka-python's reader hits
        except AttributeError:
            transport.exception("%s: Error receiving network data closing socket", "<conn>")
    finally:
        transport.removeHandler(handler)
    text = out.getvalue()
    assert "Traceback" not in text
    assert "Error receiving network data closing socket (socket already closed" in text


def test_other_kafka_errors_keep_their_traceback() -> None:
    logs.configure("info")
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    transport = logging.getLogger("kafka.net.transport")
    transport.addHandler(handler)
    try:
        try:
            raise ConnectionResetError("reset by peer")
        except ConnectionResetError:
            transport.exception("%s: Error receiving network data closing socket", "<conn>")
    finally:
        transport.removeHandler(handler)
    assert "Traceback" in out.getvalue()
