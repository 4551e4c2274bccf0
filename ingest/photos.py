"""Photo sanitiser and media store: every tip photo is decoded and re-encoded from pixels only.

Contract:

    sanitise_image(data) -> SanitisedImage
        ``data`` is untrusted bytes from a tipster. The result is a new JPEG, PNG or WebP image
        built from pixel data alone, so no EXIF (GPS, camera serial), XMP, IPTC, comment, ICC
        profile or embedded thumbnail of the original survives. EXIF orientation is applied
        first so the picture still looks the right way up. Anything else raises
        ``RejectedContentError`` with a reason that is safe to log (it never quotes the input).

    MediaStore(root).put(image) -> Attachment
        Stores the sanitised bytes content-addressed by sha256 (atomic, idempotent) where the
        reviewer database can show them. Original bytes are never passed to the store.

    photo_hash(image) -> str
        The 64-bit perceptual hash (imagehash's DCT pHash) of a sanitised image's pixels, in hex;
        computed once here and carried in ``Attachment.phash`` so the processors can tell a
        re-shared copy of a picture (resized, re-encoded, a few per cent cropped: at most
        ``processors.dedupe.NEAR_IDENTICAL_BITS`` bits differ) from a new photo without
        reading any image.

The format is decided by magic bytes, never by a file name or a declared content type, and the
declared image size is checked against ``max_pixels`` before a single pixel is decoded.

Memory is bounded: images are decoded at once in a process only while their pixels together
stay within ``DECODE_PIXEL_BUDGET`` (a 35-megapixel PNG costs ~260 MB while decoding; four at
once took an intake to 2 GB), never more than ``MAX_CONCURRENT_DECODES`` of them, and
an image is kept at most ``MAX_OUTPUT_SIDE`` pixels on its longer side: JPEGs are decoded
already reduced (``draft``: the decoder scales by 1/2 … 1/8 as it reads), other formats are
reduced by an integer factor straight after decoding, before any copy is made.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import tempfile
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import imagehash
from PIL import Image, ImageFile, ImageOps

from schemas.tip import Attachment
from tipline.core.errors import RejectedContentError

log = logging.getLogger(__name__)

MediaType = Literal["image/jpeg", "image/png", "image/webp"]

DEFAULT_MAX_BYTES: Final = 10 * 1024 * 1024
DEFAULT_MAX_PIXELS: Final = 40_000_000

# Pillow's own bomb guard is process-wide: it warns above MAX_IMAGE_PIXELS and raises above
# twice that. We turn the warning into an error below, so this is a second, independent limit
# behind the explicit header check in ``sanitise_image`` (a caller may ask for less, never more).
Image.MAX_IMAGE_PIXELS = DEFAULT_MAX_PIXELS
# A truncated upload is refused, not padded with grey.
ImageFile.LOAD_TRUNCATED_IMAGES = False

MAX_CONCURRENT_DECODES: Final = 4
MAX_OUTPUT_SIDE: Final = 4096  # an analyst zooms into a 16-MP picture; more is only memory
_DECODE_WAIT_S: Final = 30.0
DECODE_PIXEL_BUDGET: Final = 40_000_000  # one image at the pixel limit, or several smaller


class _DecodeBudget:
    """Admits a decode while the pixels being decoded stay within the budget (one always fits)."""

    def __init__(self, pixels: int, slots: int) -> None:
        self._pixels, self._slots = pixels, slots
        self._used = self._running = 0
        self._cond = threading.Condition()

    def acquire(self, pixels: int, timeout: float) -> bool:
        def fits() -> bool:
            return self._running == 0 or (
                self._running < self._slots and self._used + pixels <= self._pixels
            )

        with self._cond:
            if not self._cond.wait_for(fits, timeout):
                return False
            self._used += pixels
            self._running += 1
            return True

    def release(self, pixels: int) -> None:
        with self._cond:
            self._used -= pixels
            self._running -= 1
            self._cond.notify_all()


_DECODES = _DecodeBudget(DECODE_PIXEL_BUDGET, MAX_CONCURRENT_DECODES)

_JPEG_QUALITY: Final = 90
_HASH_SIDE: Final = 256  # photo_hash reduces larger images to about this side first
_WEBP_QUALITY: Final = 90
_SHA256_RE: Final = re.compile(r"^[0-9a-f]{64}$")

# Pillow format name -> media type
_FORMATS: Final[dict[str, MediaType]] = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
}


@dataclass(frozen=True)
class SanitisedImage:
    """A re-encoded image: pixels only, no metadata. ``sha256`` is of ``data``."""

    data: bytes
    media_type: MediaType
    width: int
    height: int
    sha256: str
    phash: str | None = None


def photo_hash(image: Image.Image) -> str:
    """The perceptual hash of ``image``'s pixels: 16 hex digits (see the module docstring)."""
    # pHash looks at a 32x32 thumbnail: a cheap box reduction first keeps a 16-MP photo from
    # costing ~70 ms of antialiased resampling, and changes no hash by more than a bit or two.
    factor = max(image.size) // _HASH_SIDE
    return str(imagehash.phash(image.reduce(factor) if factor > 1 else image))


def sniff_format(data: bytes) -> str | None:
    """The Pillow format name the bytes really are (by magic bytes), or None if not allowed."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def sanitise_image(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> SanitisedImage:
    """Decode ``data`` and re-encode it from pixels only; refuse anything unsafe or unexpected."""
    if not data:
        raise RejectedContentError("image is empty")
    if len(data) > max_bytes:
        raise RejectedContentError(f"image is larger than {max_bytes} bytes")
    fmt = sniff_format(data)
    if fmt is None:
        raise RejectedContentError("not a JPEG, PNG or WebP image (checked by content)")

    max_pixels = min(max_pixels, DEFAULT_MAX_PIXELS)
    pixels = _declared_pixels(data, fmt)
    if not _DECODES.acquire(pixels, timeout=_DECODE_WAIT_S):
        raise RejectedContentError("too many images are being processed; try again later")
    try:
        return _sanitise(data, fmt, max_pixels)
    finally:
        _DECODES.release(pixels)


def _declared_pixels(data: bytes, fmt: str) -> int:
    """The pixel count the header declares (no pixel decoded); 1 when it cannot be read, since
    ``_sanitise`` refuses such bytes anyway. Capped at the limit, which is refused later."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[fmt]) as img:
                width, height = img.size
    except Exception:  # refused with its reason by _sanitise
        return 1
    return max(1, min(width * height, DEFAULT_MAX_PIXELS))


def _reduction(width: int, height: int) -> int:
    """The integer factor that brings the longer side to at most MAX_OUTPUT_SIDE."""
    return max(1, -(-max(width, height) // MAX_OUTPUT_SIDE))


def _sanitise(data: bytes, fmt: str, max_pixels: int) -> SanitisedImage:
    with warnings.catch_warnings():
        # A bomb warning is a rejection, never a log line.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            # formats=[fmt]: Pillow must not fall back to another decoder for these bytes.
            with Image.open(io.BytesIO(data), formats=[fmt]) as img:
                width, height = img.size
                # The header is read, no pixel yet: refuse bombs before decoding them.
                if width < 1 or height < 1:
                    raise RejectedContentError("image has no pixels")
                if width * height > max_pixels:
                    raise RejectedContentError(f"image is larger than {max_pixels} pixels")
                factor = _reduction(width, height)
                if fmt == "JPEG" and factor > 1:
                    img.draft(img.mode, (width // factor, height // factor))
                img.load()
                factor = _reduction(*img.size)
                clean = _pixels_only(_reduce(img, factor) if factor > 1 else img)
        except RejectedContentError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise RejectedContentError(f"image is larger than {max_pixels} pixels") from exc
        except Exception as exc:
            # Untrusted input through a C decoder: any failure at all means "not a usable image".
            # Only the exception type is kept; its message could quote the input.
            raise RejectedContentError(
                f"image could not be decoded ({type(exc).__name__})"
            ) from exc

    # The output limit is the Attachment schema's, not the caller's input limit: re-encoding a
    # tight JPEG may add a few bytes, and that must not turn an accepted upload into a refusal.
    out_fmt, encoded = _encode(clean, fmt)
    if len(encoded) > DEFAULT_MAX_BYTES and out_fmt != "JPEG":
        # A noisy photo can grow as lossless PNG; JPEG keeps it within the limit.
        out_fmt, encoded = _encode(clean, "JPEG")
    if len(encoded) > DEFAULT_MAX_BYTES:
        raise RejectedContentError(f"sanitised image is larger than {DEFAULT_MAX_BYTES} bytes")
    media_type = _FORMATS[out_fmt]
    return SanitisedImage(
        data=encoded,
        media_type=media_type,
        width=clean.width,
        height=clean.height,
        sha256=hashlib.sha256(encoded).hexdigest(),
        # Of the clean pixels, not the encoded bytes: the same picture hashes alike in any format.
        phash=photo_hash(clean),
    )


def _reduce(img: Image.Image, factor: int) -> Image.Image:
    """``img`` shrunk by ``factor``, keeping what ``_pixels_only`` reads (EXIF orientation)."""
    if img.mode not in ("L", "RGB", "RGBA", "LA", "I", "F"):
        has_alpha = "transparency" in img.info or img.mode in ("PA", "RGBa")
        img_info = dict(img.info)
        img = img.convert("RGBA" if has_alpha else "RGB")
        img.info.update(img_info)
    reduced = img.reduce(factor)
    # exif_transpose reads the orientation from info; the reduced copy starts without it.
    reduced.info.update({k: v for k, v in img.info.items() if k == "exif"})
    return reduced


def _pixels_only(img: Image.Image) -> Image.Image:
    """A new image holding only the (upright) pixels of ``img``: no info, no EXIF, no profile."""
    # Only the first frame of an animation: a tip photo is a still, and later frames could hide
    # other content from a reviewer who sees the first.
    upright = ImageOps.exif_transpose(img) or img
    has_alpha = upright.mode in ("RGBA", "LA", "PA") or (
        upright.mode == "P" and "transparency" in upright.info
    )
    if has_alpha:
        mode = "RGBA"
    elif upright.mode in ("L", "1", "I;16", "I", "F"):
        mode = "L"
    else:
        mode = "RGB"
    converted = upright if upright.mode == mode else upright.convert(mode)
    # frombytes makes a fresh image whose ``info`` is empty: nothing of the original rides along.
    return Image.frombytes(mode, converted.size, converted.tobytes())


def _encode(img: Image.Image, fmt: str) -> tuple[str, bytes]:
    """Encode with no metadata arguments at all; returns the format actually written."""
    buf = io.BytesIO()
    if fmt == "JPEG":
        if img.mode == "RGBA":
            # JPEG has no alpha: flatten onto white, as a browser would show it.
            background = Image.new("RGB", img.size, (255, 255, 255))
            background.paste(img, mask=img.getchannel("A"))
            img = background
        img.save(buf, format="JPEG", quality=_JPEG_QUALITY, optimize=False)
    elif fmt == "PNG":
        # Level 1: a noisy photo compresses barely better at 6 but takes five times as long.
        img.save(buf, format="PNG", compress_level=1)
    elif fmt == "WEBP":
        img.save(buf, format="WEBP", quality=_WEBP_QUALITY, method=4)
    else:  # pragma: no cover - sniff_format only returns the three above
        raise RejectedContentError("unsupported image format")
    return fmt, buf.getvalue()


class MediaStore:
    """Sanitised images on disk, content-addressed by sha256: ``root/ab/cd/<sha256>``.

    ``put`` is atomic (temporary file, fsync, rename) and idempotent: storing the same image
    twice writes it once. Only ``SanitisedImage`` goes in, so original upload bytes cannot.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        """Where the image with this digest lives (whether or not it exists yet)."""
        if not _SHA256_RE.fullmatch(sha256):
            # The digest becomes a path: anything else could walk out of the store.
            raise ValueError("not a lower-case hex sha256 digest")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, image: SanitisedImage) -> Attachment:
        """Store ``image`` (once) and return the attachment record that names it."""
        digest = hashlib.sha256(image.data).hexdigest()
        if digest != image.sha256:
            raise RejectedContentError("image digest does not match its bytes")
        attachment = Attachment(
            sha256=digest,
            media_type=image.media_type,
            size=len(image.data),
            width=image.width,
            height=image.height,
            phash=image.phash,
        )
        path = self.path_for(digest)
        if path.exists():
            return attachment
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(image.data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp_name, 0o640)
            # Same content, same name: a concurrent writer of the same image cannot corrupt it.
            os.replace(tmp_name, path)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        log.debug("stored media %s (%s, %d bytes)", digest, image.media_type, len(image.data))
        return attachment
