"""Fediverse intake: mentions of and direct messages to the project's Mastodon account.

Contract:

    MastodonPoller(client, sink, instance=..., account=..., cursor=CursorFile(path)).poll_once()
        Reads the account's ``mention`` notifications (direct messages are mentions with
        visibility "direct") through the Mastodon REST API (Mastodon.py), oldest first, from
        the persisted cursor on. Each becomes a RawTip on the ``social`` channel with tip id
        ``s-`` + sha256(instance, status id); the cursor (the last notification id, i.e. the
        next poll's since id) is written atomically after the sink accepted that tip. A crash
        between the two repeats one tip, which the tip id makes harmless; nothing is skipped.
        When the sink fails, the round stops with TransientError and the cursor stays put.

Paging uses ``min_id`` rather than ``since_id``: with ``since_id`` the server returns the
*newest* page, so more than one page of new mentions between two polls would skip the older
ones; ``min_id`` returns the page immediately after the cursor.

The status HTML is turned into text and the leading @mention of the project's account is cut;
everything about the author (acct, URLs, visibility) goes to ``channel_meta`` only.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from mastodon import Mastodon
from mastodon.errors import (
    MastodonError,
    MastodonNetworkError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
)

from ingest.mime import html_to_text
from ingest.producer import TipSink
from ingest.tip_ids import TipIds
from schemas.tip import MAX_BODY_CHARS, MAX_SUBJECT_CHARS, RawTip
from tipline.core.errors import ConfigurationError, TransientError
from tipline.core.settings import Settings

log = logging.getLogger(__name__)

TRUNCATION_MARKER: Final = "\n[… truncated by tipline]"
PAGE_SIZE: Final = 40  # the API's maximum for notifications


class CursorFile:
    """The polling cursor on disk, replaced atomically so a crash leaves the old or the new one."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def load(self) -> str | None:
        try:
            value = self.path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return None
        return value or None

    def save(self, cursor: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(cursor + "\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        # The rename is durable only once the directory entry is.
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _id_order(value: str) -> tuple[int, str]:
    # Mastodon ids are numeric strings of growing length; compare them as numbers.
    return (len(value), value)


def status_tip_id(ids: TipIds, instance: str, status_id: str) -> str:
    """``s-`` + keyed hash of (instance, status id): the public status does not lead here."""
    return ids.derive("s-", "mastodon", instance, status_id)


def _get(obj: Any, key: str) -> Any:
    """Field of an API object: Mastodon.py's typed dicts, or plain dicts in tests."""
    if isinstance(obj, Mapping):
        return obj.get(key)
    return getattr(obj, key, None)


class MastodonPoller:
    """Polls one account's mentions; see the module contract."""

    def __init__(
        self,
        client: Mastodon,
        sink: TipSink,
        *,
        instance: str,
        account: str,
        cursor: CursorFile,
        ids: TipIds,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self._ids = ids
        self._client = client
        self._sink = sink
        self._instance = instance.lower()
        self._account = account.lstrip("@").lower()
        self._cursor = cursor
        self._page_size = page_size
        local = re.escape(self._account.partition("@")[0])
        domain = re.escape(self._instance)
        self._lead_mention = re.compile(rf"^\s*(?:@{local}(?:@{domain})?\b[\s,:]*)+", re.IGNORECASE)

    @classmethod
    def from_settings(cls, settings: Settings, sink: TipSink) -> MastodonPoller:
        if not settings.mastodon_url or settings.mastodon_token is None:
            raise ConfigurationError("Mastodon polling needs mastodon_url and mastodon_token")
        if not settings.mastodon_account:
            raise ConfigurationError("Mastodon polling needs mastodon_account (the project acct)")
        client = Mastodon(
            access_token=settings.mastodon_token.get_secret_value(),
            api_base_url=settings.mastodon_url,
            request_timeout=30,
            ratelimit_method="throw",
        )
        return cls(
            client,
            sink,
            instance=urlsplit(settings.mastodon_url).netloc or settings.mastodon_url,
            account=settings.mastodon_account,
            cursor=CursorFile(
                settings.mastodon_cursor_file or settings.data_dir / "mastodon.cursor"
            ),
            ids=TipIds.from_settings(settings),
        )

    def _fetch(self, min_id: str) -> list[Any]:
        try:
            page = self._client.notifications(
                types=["mention"], min_id=min_id, limit=self._page_size
            )
        except MastodonUnauthorizedError as exc:
            raise ConfigurationError("Mastodon refused the access token") from exc
        except (MastodonNetworkError, MastodonServerError, MastodonRatelimitError) as exc:
            raise TransientError(f"Mastodon unavailable: {type(exc).__name__}") from exc
        except MastodonError as exc:
            raise TransientError(f"Mastodon API error: {type(exc).__name__}") from exc
        return list(page or [])

    def poll_once(self) -> int:
        """Submit every mention after the cursor, oldest first; the number accepted."""
        accepted = 0
        # "0" on the very first run: mentions sent before tipline started are tips too.
        cursor = self._cursor.load() or "0"
        while True:
            page = sorted(self._fetch(cursor), key=lambda n: _id_order(str(_get(n, "id"))))
            for notification in page:
                note_id = str(_get(notification, "id"))
                if _id_order(note_id) <= _id_order(cursor):
                    continue  # a server that ignores min_id must not make us repeat
                tip = self.to_tip(notification)
                if tip is not None:
                    self._sink.submit(tip)  # TransientError ends the round, cursor unchanged
                    accepted += 1
                    log.info("tip %s accepted from Mastodon", tip.tip_id)
                self._cursor.save(note_id)
                cursor = note_id
            if len(page) < self._page_size:
                return accepted

    def to_tip(self, notification: Any) -> RawTip | None:
        """The RawTip for one notification, or None for one that carries no tip."""
        status = _get(notification, "status")
        if _get(notification, "type") != "mention" or status is None:
            return None
        account = _get(status, "account") or {}
        acct = str(_get(account, "acct") or "").lower()
        if "@" not in acct and acct:
            acct = f"{acct}@{self._instance}"  # local accounts come without their domain
        if acct in {self._account, f"{self._account}@{self._instance}"}:
            return None  # our own replies in a thread are not tips
        status_id = str(_get(status, "id"))
        tip_id = status_tip_id(self._ids, self._instance, status_id)
        body = self._lead_mention.sub("", html_to_text(str(_get(status, "content") or "")))
        media = _get(status, "media_attachments") or []
        meta: dict[str, str | list[str]] = {
            "transport": "mastodon",
            "instance": self._instance,
            "notification_id": str(_get(notification, "id")),
            "status_id": status_id,
            "visibility": str(_get(status, "visibility") or ""),
            "media_count": str(len(media)),
        }
        if acct:
            meta["sender"] = acct
        for key in ("url", "uri", "in_reply_to_id", "language"):
            value = _get(status, key)
            if value:
                meta[key] = str(value)
        if not body.strip():
            # Photos in statuses are not fetched yet (see the report); a bare mention is no tip.
            log.info("Mastodon status for tip %s has no text; skipped", tip_id)
            return None
        if len(body) > MAX_BODY_CHARS:
            body = body[: MAX_BODY_CHARS - len(TRUNCATION_MARKER)] + TRUNCATION_MARKER
            meta["body_truncated"] = "true"
        created = _get(status, "created_at")
        received_at = _as_aware(created) if isinstance(created, datetime) else datetime.now(UTC)
        return RawTip(
            tip_id=tip_id,
            channel="social",
            received_at=received_at,
            subject=" ".join(str(_get(status, "spoiler_text") or "").split())[:MAX_SUBJECT_CHARS],
            body=body,
            channel_meta=meta,
        )

    def run(self, stop: threading.Event, interval_s: float = 60.0) -> None:
        """Poll until ``stop`` is set; outages are logged and retried at the next interval."""
        while not stop.is_set():
            try:
                self.poll_once()
            except TransientError as exc:
                log.warning("Mastodon poll failed, retrying: %s", exc)
            stop.wait(interval_s)


def _as_aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
