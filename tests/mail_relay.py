"""A real SMTP relay (aiosmtpd) that keeps what it is given: where e-mail receipt replies go."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiosmtpd.controller import Controller


class Outbox:
    """The relay's handler: every message it was given, as (envelope sender, recipients, bytes)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@contextmanager
def mail_relay(port: int) -> Iterator[tuple[Controller, Outbox]]:
    """A relay on 127.0.0.1:``port`` for the duration of the block."""
    outbox = Outbox()
    controller = Controller(outbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield controller, outbox
    finally:
        controller.stop()
