"""What form and API share: photos sanitised off the event loop, tips handed to the broker."""

from __future__ import annotations

import logging
from typing import Final, NamedTuple

from starlette.concurrency import run_in_threadpool

from ingest.contact import seal_contact
from ingest.photos import MediaStore, sanitise_image
from ingest.producer import TipSink, UnconfirmedError
from schemas.tip import Attachment, RawTip
from tipline.core.errors import BackpressureError, TransientError

log = logging.getLogger(__name__)

BUSY_RETRY_AFTER_S: Final = 5.0


class Refusal(NamedTuple):
    """Why a tip was not confirmed: retry after ``retry_after`` seconds.

    ``maybe_saved``: the tip was sent and not acknowledged in time, so it may well be stored;
    the sender must hear "not confirmed, sending again is safe", never "not saved".
    """

    retry_after: float
    maybe_saved: bool = False


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

    async def accept(self, raw: RawTip) -> Refusal | None:
        """Hand the tip to the broker; None when acknowledged, else why not (see Refusal)."""
        try:
            await self.sink.submit_async(raw)
        except BackpressureError as exc:
            log.warning("tip %s not accepted: broker back-pressure", raw.tip_id)
            return Refusal(max(exc.retry_after, 1.0))
        except (UnconfirmedError, TimeoutError):
            # TimeoutError: a sink that waited for its acknowledgement and gave up.
            log.warning("tip %s sent but not confirmed by the broker", raw.tip_id)
            return Refusal(BUSY_RETRY_AFTER_S, maybe_saved=True)
        except TransientError:
            log.warning("tip %s not accepted: broker unavailable", raw.tip_id)
            return Refusal(BUSY_RETRY_AFTER_S)
        log.info("accepted tip %s (%s)", raw.tip_id, raw.channel_meta.get("interface", "?"))
        return None

    async def store_photo(self, data: bytes) -> Attachment:
        # Decoding a 12-MP photo takes a CPU-tenth of a second: keep it off the event loop.
        image = await run_in_threadpool(sanitise_image, data)
        return await run_in_threadpool(self.media.put, image)
