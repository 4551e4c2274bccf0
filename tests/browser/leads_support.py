"""What the leads browser tests share: settings, objects, the pipeline without the broker."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PIL import Image

from processors.offline import OfflinePipeline
from processors.sender_key import SenderKeyer
from schemas import RawTip, ScoredTip
from store.sink import TipWriter
from tipline import objects_cli
from tipline.cli import build_parser
from tipline.core.settings import Settings

TOKEN = "ana-token-0123456789abcdef"


def settings_for(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,  # type: ignore[arg-type]
        data_dir=tmp_path,
        web_secure_cookies=False,
        review_secure_cookies=False,
        review_tokens={"ana": TOKEN},  # type: ignore[dict-item]
        web_catalogue_ttl=0.01,
    )


def objects(settings: Settings, *argv: str) -> None:
    assert objects_cli.run(settings, build_parser().parse_args(["objects", *argv])) == 0


def picture(path: Path, colour: tuple[int, int, int] = (30, 90, 160)) -> Path:
    """A small real JPEG: a blue square with a red band, so a screenshot shows it."""
    img = Image.new("RGB", (320, 240), colour)
    for x in range(320):
        for y in range(100, 140):
            img.putpixel((x, y), (200, 40, 40))
    img.save(path, "JPEG")
    return path


def publish_bag(settings: Settings, tmp_path: Path) -> None:
    objects(
        settings,
        "add",
        "bag-7",
        "--title",
        "en=Blue shopping bag with a red band",
        "--title",
        "de=Blaue Einkaufstasche mit rotem Streifen",
        "--title",
        "pl=Niebieska torba z czerwonym paskiem",
        "--title",
        "fr=Sac bleu à bande rouge",
        "--question",
        "en=Where was this bag sold?",
        "--question",
        "de=Wo wurde diese Tasche verkauft?",
        "--question",
        "pl=Gdzie sprzedawano tę torbę?",
        "--question",
        "fr=Où ce sac était-il vendu ?",
        "--picture",
        str(picture(tmp_path / "bag.jpg")),
    )
    objects(settings, "publish", "bag-7")


def store(database_url: str, raws: list[RawTip]) -> list[ScoredTip]:
    """The real clean and triage stages and the sink writer: the pipeline minus the broker."""
    pipeline = OfflinePipeline(sender_keys=SenderKeyer("k1", b"browser-test-secret-0123456789"))
    scored = [pipeline.triage(pipeline.clean(raw)) for raw in raws]

    async def write() -> None:
        writer = TipWriter(database_url)
        try:
            assert not (await writer.write(scored)).rejected
        finally:
            await writer.close()

    asyncio.run(write())
    return scored
