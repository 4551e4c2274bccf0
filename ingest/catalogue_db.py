"""Published objects read from the reviewer database, for the public pages: read-only, cached.

The ingest side never imports ``review/``: these few SELECTs are its own. The catalogue holds
every object the public may see (published, identified, retired; never drafts) in memory and
reloads it at most every ``ttl`` seconds. While the table is empty (a fresh install, ``make
run``), every well-formed id gets the generic page, as without a catalogue file, so an appeal
can go out before its objects are entered; once any object exists, only public ones have a
page. A page view costs no query, and a newly published object shows within ``ttl``. A
database outage keeps the last good copy (and says so in the
log once), since refusing tips because the catalogue is stale would lose them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from pydantic import TypeAdapter, ValidationError

from ingest.web_catalogue import ObjectCatalogue, ObjectPage, choose_texts
from schemas.tip import ObjectRef
from tipline.core.errors import TransientError

log = logging.getLogger(__name__)

_OBJECT_REF: Final = TypeAdapter(ObjectRef)
PUBLIC_STATUSES: Final = ("published", "identified", "retired")
# Drafts too, only to know whether the table is in use; they never get a page.
_OBJECTS: Final = "SELECT object_ref, status, texts, picture_sha256 FROM objects"


class IngestDatabase:
    """A small pool of read-only connections for the intake's pages, opened on first use."""

    def __init__(self, url: str, max_size: int = 4) -> None:
        self.pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            url,
            min_size=0,
            max_size=max_size,
            open=False,
            # The intake only reads: the server refuses any write on these connections.
            kwargs={
                "autocommit": True,
                "application_name": "tipline-web",
                "options": "-c default_transaction_read_only=on",
            },
        )
        self._opened = False

    async def rows(self, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
        """The rows of one query; TransientError when the database cannot be reached."""
        if not self._opened:
            await self.pool.open(wait=False)
            self._opened = True
        try:
            async with (
                self.pool.connection(timeout=5) as conn,
                conn.cursor(row_factory=dict_row) as cur,
            ):
                await cur.execute(sql, params)
                rows: list[dict[str, Any]] = await cur.fetchall()
                return rows
        except (psycopg.OperationalError, TimeoutError) as exc:
            raise TransientError(f"reviewer database unavailable: {type(exc).__name__}") from exc

    async def close(self) -> None:
        if self._opened:
            await self.pool.close()
            self._opened = False


@dataclass(frozen=True)
class _Entry:
    status: str
    texts: Mapping[str, Mapping[str, Any]]
    picture: str | None


class DatabaseCatalogue(ObjectCatalogue):
    """ObjectCatalogue over the ``objects`` table: drafts and unknown ids are not found."""

    def __init__(self, db: IngestDatabase, ttl: float = 10.0) -> None:
        super().__init__({})
        self.db = db
        self.ttl = ttl
        self._objects: dict[str, _Entry] = {}
        self._in_use = False
        self._loaded_at: float | None = None
        self._warned = False

    async def refresh(self) -> None:
        now = time.monotonic()
        if self._loaded_at is not None and now - self._loaded_at < self.ttl:
            return
        try:
            rows = await self.db.rows(_OBJECTS, ())
        except TransientError:
            if not self._warned:
                log.warning("object catalogue: database unavailable, keeping the last copy")
                self._warned = True
            # Try again soon, not on every request of a busy page.
            self._loaded_at = now - self.ttl + 1.0
            return
        self._warned = False
        self._in_use = bool(rows)
        self._objects = {
            r["object_ref"]: _Entry(r["status"], r["texts"] or {}, r["picture_sha256"])
            for r in rows
            if r["status"] in PUBLIC_STATUSES
        }
        self._loaded_at = now

    def page(self, ref: str, lang: str, generic_title: str) -> ObjectPage | None:
        try:
            _OBJECT_REF.validate_python(ref)
        except ValidationError:
            return None
        if not self._in_use:
            return ObjectPage(title=generic_title.format(ref=ref), description="")
        entry = self._objects.get(ref)
        if entry is None:
            return None
        texts = entry.texts
        code, chosen = choose_texts(texts, lang)
        questions = chosen.get("questions") or ()
        return ObjectPage(
            title=str(chosen.get("title") or generic_title.format(ref=ref)),
            description=str(chosen.get("description", "")),
            questions=tuple(str(q) for q in questions if isinstance(q, str)),
            picture=entry.picture,
            closed=entry.status != "published",
            lang=code,
        )
