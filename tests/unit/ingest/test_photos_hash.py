"""ingest/photos.py perceptual hash: a real photo and its re-shared variants hash alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.photos import MediaStore, sanitise_image
from processors.dedupe import NEAR_IDENTICAL_BITS
from tests.photo_variants import DIFFERENT, VARIANTS, encoded, photo


def _bits(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def _hash(data: bytes) -> str:
    phash = sanitise_image(data).phash
    assert phash is not None and len(phash) == 16
    return phash


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_a_reshared_variant_is_near_identical(name: str) -> None:
    original = _hash(encoded(photo()))
    assert _bits(original, _hash(encoded(VARIANTS[name](photo())))) <= NEAR_IDENTICAL_BITS


@pytest.mark.parametrize("name", sorted(DIFFERENT))
def test_a_different_picture_is_not(name: str) -> None:
    original = _hash(encoded(photo()))
    assert _bits(original, _hash(encoded(DIFFERENT[name](photo())))) > 2 * NEAR_IDENTICAL_BITS


def test_the_hash_is_of_the_pixels_not_the_format() -> None:
    # The same picture uploaded as PNG and as WebP is stored as different bytes, one picture.
    png, webp = sanitise_image(encoded(photo(), "PNG")), sanitise_image(encoded(photo(), "WEBP"))
    assert png.sha256 != webp.sha256
    assert png.phash is not None and webp.phash is not None
    assert _bits(png.phash, webp.phash) <= 2


def test_the_store_keeps_the_hash_in_the_attachment(tmp_path: Path) -> None:
    image = sanitise_image(encoded(photo()))
    attachment = MediaStore(tmp_path).put(image)
    assert attachment.phash == image.phash
    # Stored again (idempotent path): the record is the same.
    assert MediaStore(tmp_path).put(image) == attachment
