"""Variants of the real test photos (tests/data/photos, public domain) as a re-share makes them."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from PIL import Image

PHOTOS = Path(__file__).resolve().parent / "data" / "photos"


def photo(name: str = "grace_hopper.jpg") -> Image.Image:
    with Image.open(PHOTOS / name) as img:
        return img.convert("RGB")


def _jpeg(img: Image.Image, quality: int) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    with Image.open(io.BytesIO(buf.getvalue())) as out:
        return out.convert("RGB")


def _crop(img: Image.Image, share: float) -> Image.Image:
    w, h = img.size
    dx, dy = int(w * share), int(h * share)
    return img.crop((dx, dy, w - dx, h - dy))


# What messengers and social sites do to a shared photo: scale it, re-compress it, trim it.
VARIANTS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "half size": lambda i: i.resize((i.width // 2, i.height // 2)),
    "quarter size": lambda i: i.resize((i.width // 4, i.height // 4)),
    "double size": lambda i: i.resize((i.width * 2, i.height * 2)),
    "jpeg quality 30": lambda i: _jpeg(i, 30),
    "jpeg quality 10": lambda i: _jpeg(i, 10),
    "greyscale": lambda i: i.convert("L"),
    "2 % cropped": lambda i: _crop(i, 0.02),
    "4 % cropped, half size, jpeg 50": lambda i: _jpeg(_crop(i, 0.04).resize((240, 280)), 50),
}
# Not the same picture: another picture, a mirror image, a detail blown up.
DIFFERENT: dict[str, Callable[[Image.Image], Image.Image]] = {
    "another picture": lambda _i: photo("Minduka_Present_Blue_Pack.png"),
    "mirrored": lambda i: i.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
    "top-left quarter enlarged": lambda i: i.crop((0, 0, i.width // 2, i.height // 2)).resize(
        i.size
    ),
}


def encoded(img: Image.Image, fmt: str = "JPEG") -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()
