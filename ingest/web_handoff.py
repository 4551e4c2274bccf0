"""What form and API share: photos sanitised off the event loop, tips handed to the broker."""

from __future__ import annotations

import logging
from typing import Final

from starlette.concurrency import run_in_threadpool

from ingest.contact import seal_contact
from ingest.photos import MediaStore, sanitise_image
from ingest.producer import TipSink
from schemas.tip import Attachment, RawTip
from tipline.errors import BackpressureError, TransientError

log = logging.getLogger(__name__)

BUSY_RETRY_AFTER_S: Final = 5.0


class Handoff:
    """Stores a tip's photos and hands the tip to the sink; the last step of every handler."""

    def __init__(self, sink: TipSink, media: MediaStore, contact_key: str | None = None) -> None:
        self.sink = sink
        self.media = media
        self.contact_key = contact_key

    @property
    def takes_contact(self) -> bool:
        """Contact details are asked for only when they can be sealed for investigators."""
        return self.contact_key is not None

    def seal(self, contact: str) -> str:
        """The contact sealed for investigators; the plain text goes nowhere else."""
        assert self.contact_key is not None
        return seal_contact(contact, self.contact_key)

    async def accept(self, raw: RawTip) -> float:
        """Hand the tip to the broker; 0.0 when acknowledged, else seconds to retry after."""
        try:
            await self.sink.submit_async(raw)
        except BackpressureError as exc:
            log.warning("tip %s not accepted: broker back-pressure", raw.tip_id)
            return max(exc.retry_after, 1.0)
        except (TransientError, TimeoutError):
            # TimeoutError: a sink that waited for its acknowledgement and gave up.
            log.warning("tip %s not accepted: broker unavailable", raw.tip_id)
            return BUSY_RETRY_AFTER_S
        log.info("accepted tip %s (%s)", raw.tip_id, raw.channel_meta.get("interface", "?"))
        return 0.0

    async def store_photo(self, data: bytes) -> Attachment:
        # Decoding a 12-MP photo takes a CPU-tenth of a second: keep it off the event loop.
        image = await run_in_threadpool(sanitise_image, data)
        return await run_in_threadpool(self.media.put, image)
