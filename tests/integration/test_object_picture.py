"""The object's published picture against the real embedded PostgreSQL: the objects CLI stores
its perceptual hash, the processors read it back (store.history) and mark a tip photo that is
only that picture re-shared, while a tipster's own photo still counts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.photos import photo_hash, sanitise_image
from processors.dedupe import DedupeIndex, dedupe
from processors.flows import TriageState, restore_dedupe
from processors.lexicon import load_lexicon
from schemas import Attachment, Tip
from store.history import TipStore
from tests.photo_variants import DIFFERENT, VARIANTS, encoded, photo
from tipline import objects_cli
from tipline.cli import build_parser
from tipline.core.metrics import Counters
from tipline.core.settings import Settings

pytestmark = pytest.mark.integration


def _attachment(data: bytes) -> Attachment:
    image = sanitise_image(data)
    return Attachment(
        sha256=image.sha256,
        media_type=image.media_type,
        size=len(image.data),
        width=image.width,
        height=image.height,
        phash=image.phash,
    )


def test_a_reshared_object_picture_is_marked(database_url: str, tmp_path: Path) -> None:
    settings = Settings(database_url=database_url, data_dir=tmp_path)  # type: ignore[arg-type]
    path = tmp_path / "hopper.jpg"
    path.write_bytes(encoded(photo()))
    argv = ["objects", "add", "7", "--title", "en=Portrait", "--picture", str(path)]
    assert objects_cli.run(settings, build_parser().parse_args(argv)) == 0

    store = TipStore(database_url)
    state = TriageState.from_settings(settings, load_lexicon(None), store, Counters())
    reshared = _attachment(encoded(VARIANTS["4 % cropped, half size, jpeg 50"](photo())))
    own = _attachment(encoded(DIFFERENT["another picture"](photo())))
    tip = Tip(
        tip_id="t1",
        channel="web",
        received_at=datetime(2025, 3, 1, tzinfo=UTC),
        object_ref="7",
        body="I saw this one on the news",
        attachments=(reshared, own),
    )

    async def flow() -> tuple[str | None, Tip]:
        try:
            return await store.picture_hash("7"), await restore_dedupe(tip, state)
        finally:
            await store.close()

    stored_hash, restored = asyncio.run(flow())
    assert stored_hash == photo_hash(photo())
    out = dedupe(restored, state.index)
    assert out.reshared_pictures == (reshared.sha256,)
    assert [(c.kind, c.value) for c in out.corroboration] == [("photo", own.phash)]
    # An object without a picture: nothing is marked.
    assert dedupe(tip.model_copy(update={"object_ref": "8"}), DedupeIndex()).reshared_pictures == ()
