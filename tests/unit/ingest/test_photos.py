"""Unit tests for ingest/photos.py: no metadata survives, bad input is refused, storage is safe."""

from __future__ import annotations

import contextlib
import hashlib
import io
import struct
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from ingest.photos import MediaStore, SanitisedImage, sanitise_image, sniff_format
from tipline.core.errors import RejectedContentError

# Markers planted in every metadata carrier; none may appear in a sanitised image.
GPS_MARK = "GPSMARK-48.2082N"
CAMERA_MARK = "CAMERAMARK-SN0042"
XMP_MARK = "XMPMARK-creator-jane"
ICC_MARK = b"ICCMARK-desc"
COMMENT_MARK = b"COMMENTMARK-taken-at-home"
THUMB_MARK = b"THUMBMARK-old-crop"
TEXT_MARK = "TEXTMARK-author"
ALL_MARKS = [
    GPS_MARK.encode(),
    CAMERA_MARK.encode(),
    XMP_MARK.encode(),
    ICC_MARK,
    COMMENT_MARK,
    THUMB_MARK,
    TEXT_MARK.encode(),
]


# --- builders -----------------------------------------------------------------------------


def two_tone(size: tuple[int, int] = (64, 48), mode: str = "RGB") -> Image.Image:
    """Left half red, right half blue: lets a test see which way up the output is."""
    img = Image.new("RGB", size, (220, 20, 20))
    img.paste((20, 20, 220), (size[0] // 2, 0, size[0], size[1]))
    return img.convert(mode)


def fake_icc() -> bytes:
    # Pillow embeds ICC bytes as given; a marker in them shows whether they were copied.
    return b"\x00\x00\x01\x00" + ICC_MARK + b"\x00" * 200


def xmp_packet() -> bytes:
    return (
        b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
        b'22-rdf-syntax-ns#"><rdf:Description dc:creator="' + XMP_MARK.encode() + b'"/>'
        b"</rdf:RDF></x:xmpmeta><?xpacket end='w'?>"
    )


def exif_with_gps(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation  # Orientation
    exif[0x010F] = CAMERA_MARK  # Make
    exif[0xA431] = CAMERA_MARK  # BodySerialNumber (Exif IFD tag, stored here for simplicity)
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (48.0, 12.0, 29.5)
    gps[27] = GPS_MARK  # GPSProcessingMethod
    return exif


def small_jpeg(comment: bytes) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 255, 0)).save(buf, "JPEG", comment=comment)
    return buf.getvalue()


def app1_exif_with_thumbnail(orientation: int = 1) -> bytes:
    """A hand-built EXIF APP1 segment: IFD0 (orientation, make) and IFD1 carrying a thumbnail."""
    thumb = small_jpeg(THUMB_MARK)
    make = CAMERA_MARK.encode() + b"\x00"
    # little-endian TIFF; IFD0 at 8 with 2 entries; IFD1 right after with 2 entries.
    ifd0_off = 8
    ifd0_len = 2 + 2 * 12 + 4
    ifd1_off = ifd0_off + ifd0_len
    ifd1_len = 2 + 2 * 12 + 4
    make_off = ifd1_off + ifd1_len
    thumb_off = make_off + len(make)
    tiff = b"II*\x00" + struct.pack("<I", ifd0_off)
    tiff += struct.pack("<H", 2)
    tiff += struct.pack("<HHII", 0x010F, 2, len(make), make_off)
    tiff += struct.pack("<HHIHH", 0x0112, 3, 1, orientation, 0)
    tiff += struct.pack("<I", ifd1_off)
    tiff += struct.pack("<H", 2)
    tiff += struct.pack("<HHII", 0x0201, 4, 1, thumb_off)
    tiff += struct.pack("<HHII", 0x0202, 4, 1, len(thumb))
    tiff += struct.pack("<I", 0)
    tiff += make + thumb
    payload = b"Exif\x00\x00" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def jpeg_with_everything(orientation: int = 1, size: tuple[int, int] = (64, 48)) -> bytes:
    buf = io.BytesIO()
    two_tone(size).save(
        buf,
        "JPEG",
        exif=exif_with_gps(orientation).tobytes(),
        icc_profile=fake_icc(),
        comment=COMMENT_MARK,
        xmp=xmp_packet(),
    )
    data = buf.getvalue()
    # A second APP1 with a real IFD1 thumbnail, placed straight after SOI.
    return data[:2] + app1_exif_with_thumbnail(orientation) + data[2:]


def png_with_everything(mode: str = "RGBA") -> bytes:
    info = PngInfo()
    info.add_text("Author", TEXT_MARK)
    info.add_text("Comment", COMMENT_MARK.decode(), zip=True)
    info.add_itxt("XML:com.adobe.xmp", xmp_packet().decode())
    buf = io.BytesIO()
    two_tone(mode=mode).save(
        buf, "PNG", pnginfo=info, icc_profile=fake_icc(), exif=exif_with_gps().tobytes()
    )
    return buf.getvalue()


def webp_with_everything() -> bytes:
    buf = io.BytesIO()
    two_tone(mode="RGBA").save(
        buf,
        "WEBP",
        exif=exif_with_gps().tobytes(),
        icc_profile=fake_icc(),
        xmp=xmp_packet(),
    )
    return buf.getvalue()


def encode(img: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` but carries almost no data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


# --- structure readers: what the output is allowed to contain ----------------------------


def jpeg_markers(data: bytes) -> list[int]:
    """Marker bytes of every segment up to the start of scan."""
    assert data[:2] == b"\xff\xd8"
    pos, markers = 2, []
    while pos < len(data):
        assert data[pos] == 0xFF
        marker = data[pos + 1]
        markers.append(marker)
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            break
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        pos += 2 + length
    return markers


def png_chunk_types(data: bytes) -> list[bytes]:
    pos, kinds = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kinds.append(data[pos + 4 : pos + 8])
        pos += 12 + length
    return kinds


def webp_chunk_types(data: bytes) -> list[bytes]:
    pos, kinds = 12, []
    while pos < len(data):
        kind = data[pos : pos + 4]
        (length,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        kinds.append(kind)
        pos += 8 + length + (length & 1)
    return kinds


def assert_no_marks(data: bytes) -> None:
    for mark in ALL_MARKS:
        assert mark not in data, mark


# --- metadata removal ----------------------------------------------------------------------


def test_inputs_really_carry_the_metadata() -> None:
    # Guards the builders: if a mark were not in the input, the removal tests would prove nothing.
    for data in (jpeg_with_everything(), png_with_everything(), webp_with_everything()):
        assert sum(mark in data for mark in ALL_MARKS) >= 3
    with Image.open(io.BytesIO(jpeg_with_everything())) as img:
        assert img.getexif()[0x0112] == 1
        assert "icc_profile" in img.info


def test_jpeg_keeps_only_pixel_segments() -> None:
    out = sanitise_image(jpeg_with_everything())
    assert out.media_type == "image/jpeg"
    assert_no_marks(out.data)
    # APP0 (JFIF), DQT, SOF0, DHT, SOS only: no APP1 (EXIF/XMP), APP2 (ICC), APP13 (IPTC), COM.
    assert set(jpeg_markers(out.data)) <= {0xE0, 0xDB, 0xC0, 0xC4, 0xDA}
    with Image.open(io.BytesIO(out.data)) as img:
        assert not img.getexif()
        assert "icc_profile" not in img.info
        assert "comment" not in img.info


@pytest.mark.parametrize("mode", ["RGBA", "RGB", "L", "P"])
def test_png_keeps_only_pixel_chunks(mode: str) -> None:
    out = sanitise_image(png_with_everything(mode))
    assert out.media_type == "image/png"
    assert_no_marks(out.data)
    assert set(png_chunk_types(out.data)) <= {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"}


def test_webp_keeps_only_pixel_chunks() -> None:
    out = sanitise_image(webp_with_everything())
    assert out.media_type == "image/webp"
    assert_no_marks(out.data)
    assert not {b"EXIF", b"XMP ", b"ICCP"} & set(webp_chunk_types(out.data))


def test_iptc_block_does_not_survive() -> None:
    # IPTC rides in a Photoshop APP13 segment; Pillow cannot write one, so we splice it in.
    iptc = b"Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x10\x1c\x02\x50\x00\x0bIPTCMARK-by"
    segment = b"\xff\xed" + struct.pack(">H", len(iptc) + 2) + iptc
    data = encode(two_tone(), "JPEG")
    data = data[:2] + segment + data[2:]
    assert b"IPTCMARK" in data
    out = sanitise_image(data)
    assert b"IPTCMARK" not in out.data
    assert 0xED not in jpeg_markers(out.data)


def test_trailing_payload_after_image_is_dropped() -> None:
    # A JPEG/ZIP polyglot: the appended archive must not ride along into the store.
    data = encode(two_tone(), "JPEG") + b"PK\x03\x04" + b"secret.txt" + b"\x00" * 64
    out = sanitise_image(data)
    assert b"PK\x03\x04" not in out.data
    assert b"secret.txt" not in out.data


@pytest.mark.parametrize(
    ("orientation", "size", "top_is_red"),
    [
        (1, (64, 48), None),  # upright: nothing to turn
        (6, (48, 64), True),  # "rotate 90 CW to display": the red left half ends on top
        (8, (48, 64), False),  # "rotate 90 CCW to display": the red left half ends at the bottom
        (3, (64, 48), None),  # upside down: same size, left and right swap
    ],
)
def test_exif_orientation_is_applied_before_it_is_dropped(
    orientation: int, size: tuple[int, int], top_is_red: bool | None
) -> None:
    out = sanitise_image(jpeg_with_everything(orientation))
    assert (out.width, out.height) == size
    with Image.open(io.BytesIO(out.data)) as opened:
        img = opened.convert("RGB")
        assert img.size == size
        if top_is_red is not None:
            top = img.getpixel((size[0] // 2, 4))
            bottom = img.getpixel((size[0] // 2, size[1] - 5))
            red, blue = (top, bottom) if top_is_red else (bottom, top)
        else:
            left = img.getpixel((4, size[1] // 2))
            right = img.getpixel((size[0] - 5, size[1] // 2))
            red, blue = (left, right) if orientation == 1 else (right, left)
        assert isinstance(red, tuple) and isinstance(blue, tuple)
        assert red[0] > 150 and red[2] < 100
        assert blue[2] > 150 and blue[0] < 100


# --- what comes out ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "media_type"),
    [
        (encode(two_tone(), "JPEG"), "image/jpeg"),
        (encode(two_tone(mode="L"), "JPEG"), "image/jpeg"),
        (encode(two_tone(mode="CMYK"), "JPEG"), "image/jpeg"),
        (encode(two_tone(), "PNG"), "image/png"),
        (encode(two_tone(mode="LA"), "PNG"), "image/png"),
        (encode(two_tone(mode="RGB").convert("P"), "PNG"), "image/png"),
        (encode(two_tone(mode="RGBA"), "WEBP"), "image/webp"),
        (encode(two_tone(), "WEBP", lossless=True), "image/webp"),
    ],
)
def test_output_is_a_valid_image_of_the_same_kind(data: bytes, media_type: str) -> None:
    out = sanitise_image(data)
    assert out.media_type == media_type
    assert out.sha256 == hashlib.sha256(out.data).hexdigest()
    assert sniff_format(out.data) == media_type.split("/")[1].upper()
    with Image.open(io.BytesIO(out.data)) as img:
        img.load()
        assert img.size == (out.width, out.height) == (64, 48)


def test_animation_keeps_only_the_first_frame() -> None:
    frames = [Image.new("RGB", (16, 16), c) for c in ((255, 0, 0), (0, 0, 255))]
    buf = io.BytesIO()
    frames[0].save(buf, "PNG", save_all=True, append_images=frames[1:])
    out = sanitise_image(buf.getvalue())
    with Image.open(io.BytesIO(out.data)) as img:
        assert getattr(img, "n_frames", 1) == 1
    assert b"acTL" not in out.data


# --- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", id="pdf-named-jpg"),
        pytest.param(b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 40, id="zip"),
        pytest.param(encode(two_tone(), "GIF"), id="gif"),
        pytest.param(encode(two_tone(), "BMP"), id="bmp"),
        pytest.param(encode(two_tone(), "TIFF"), id="tiff"),
        pytest.param(b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', id="svg"),
        pytest.param(b"<html><body>hello</body></html>", id="html"),
        pytest.param(b"MZ\x90\x00\x03\x00\x00\x00", id="exe"),
        pytest.param(b"RIFF\x00\x00\x00\x00WAVEfmt ", id="riff-wave"),
        pytest.param(b"", id="empty"),
    ],
)
def test_other_types_are_refused_by_content(data: bytes) -> None:
    with pytest.raises(RejectedContentError):
        sanitise_image(data)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(encode(two_tone((400, 300)), "JPEG")[:600], id="jpeg-cut"),
        pytest.param(encode(two_tone((400, 300)), "PNG")[:300], id="png-cut"),
        pytest.param(encode(two_tone((400, 300)), "WEBP")[:200], id="webp-cut"),
        pytest.param(b"\xff\xd8\xff\xe0" + b"\x00" * 100, id="jpeg-magic-only"),
        pytest.param(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, id="png-magic-only"),
        pytest.param(b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 20, id="webp-magic-only"),
    ],
)
def test_truncated_or_corrupt_images_are_refused(data: bytes) -> None:
    with pytest.raises(RejectedContentError):
        sanitise_image(data)


@pytest.mark.parametrize(
    ("width", "height"),
    [(100_000, 100_000), (40_001, 1_000), (7_000, 6_000), (2**31 - 1, 2**31 - 1)],
)
def test_decompression_bombs_are_refused_from_the_header(width: int, height: int) -> None:
    # The file is a few hundred bytes; decoding it would need gigabytes.
    with pytest.raises(RejectedContentError, match="pixels"):
        sanitise_image(png_declaring(width, height))


def test_real_bomb_small_file_many_pixels_is_refused() -> None:
    # 42 megapixels of one colour compress to a tiny PNG.
    data = encode(Image.new("1", (7_000, 6_000)), "PNG")
    assert len(data) < 100_000
    with pytest.raises(RejectedContentError, match="pixels"):
        sanitise_image(data)


def test_max_pixels_is_honoured_below_the_default() -> None:
    data = encode(two_tone((100, 100)), "PNG")
    assert sanitise_image(data, max_pixels=10_000).width == 100
    with pytest.raises(RejectedContentError, match="pixels"):
        sanitise_image(data, max_pixels=9_999)


def test_oversize_input_is_refused_before_decoding() -> None:
    data = encode(two_tone(), "JPEG")
    with pytest.raises(RejectedContentError, match="bytes"):
        sanitise_image(data, max_bytes=len(data) - 1)
    assert sanitise_image(data, max_bytes=len(data)).media_type == "image/jpeg"
    with pytest.raises(RejectedContentError, match="bytes"):
        sanitise_image(b"\xff\xd8\xff" + b"\x00" * (10 * 1024 * 1024))


def test_rejection_reason_never_quotes_the_input() -> None:
    data = b"\x89PNG\r\n\x1a\n" + b"SECRET-INPUT" * 10
    with pytest.raises(RejectedContentError) as info:
        sanitise_image(data)
    assert "SECRET" not in info.value.reason


# --- properties ----------------------------------------------------------------------------

_SEED_IMAGES = [
    encode(two_tone((32, 24)), "JPEG"),
    encode(two_tone((32, 24), mode="RGBA"), "PNG"),
    encode(two_tone((32, 24)), "WEBP"),
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from(_SEED_IMAGES),
    flips=st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), max_size=8),
    cut=st.none() | st.integers(min_value=0),
)
def test_mangled_images_either_sanitise_or_are_refused(
    seed: bytes, flips: list[tuple[int, int]], cut: int | None
) -> None:
    data = bytearray(seed)
    for pos, value in flips:
        data[pos % len(data)] = value
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    try:
        out = sanitise_image(bytes(data))
    except RejectedContentError:
        return
    # Whatever got through is a clean, decodable image of an allowed kind.
    assert sniff_format(out.data) is not None
    with Image.open(io.BytesIO(out.data)) as img:
        img.load()
        assert img.size == (out.width, out.height)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=512))
def test_arbitrary_bytes_never_raise_anything_else(data: bytes) -> None:
    for prefix in (b"", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"RIFF\x00\x00\x00\x00WEBP"):
        with contextlib.suppress(RejectedContentError):
            sanitise_image(prefix + data)


@settings(max_examples=25, deadline=None)
@given(
    width=st.integers(1, 64),
    height=st.integers(1, 64),
    fmt=st.sampled_from(["JPEG", "PNG", "WEBP"]),
)
def test_sanitising_is_stable(width: int, height: int, fmt: str) -> None:
    first = sanitise_image(encode(two_tone((width, height)), fmt))
    second = sanitise_image(first.data)
    assert (second.width, second.height, second.media_type) == (
        first.width,
        first.height,
        first.media_type,
    )


# --- media store ---------------------------------------------------------------------------


def test_store_is_content_addressed_and_idempotent(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    image = sanitise_image(jpeg_with_everything())
    first = store.put(image)
    second = store.put(image)
    assert first == second
    assert first.sha256 == image.sha256
    assert (first.size, first.width, first.height) == (len(image.data), image.width, image.height)
    path = store.path_for(image.sha256)
    assert path.read_bytes() == image.data
    assert path.is_relative_to(tmp_path)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files == [path]  # one file, no temporary left behind


def test_store_refuses_bytes_that_do_not_match_their_digest(tmp_path: Path) -> None:
    image = sanitise_image(encode(two_tone(), "PNG"))
    forged = SanitisedImage(
        data=b"original upload bytes",
        media_type=image.media_type,
        width=image.width,
        height=image.height,
        sha256=image.sha256,
    )
    with pytest.raises(RejectedContentError):
        MediaStore(tmp_path).put(forged)
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


@pytest.mark.parametrize(
    "digest",
    ["../../etc/passwd", "A" * 64, "0" * 63, "0" * 65, "", "/" + "0" * 63, "g" * 64],
)
def test_path_for_refuses_anything_but_a_digest(tmp_path: Path, digest: str) -> None:
    with pytest.raises(ValueError, match="sha256"):
        MediaStore(tmp_path).path_for(digest)


# --- issue 9 item 7: bounded memory for large photos ---------------------------------------------


def test_large_photos_are_kept_at_a_bounded_size() -> None:
    from ingest.photos import MAX_OUTPUT_SIDE

    buf = io.BytesIO()
    Image.new("RGB", (9000, 1500), (200, 30, 30)).save(buf, "PNG")
    out = sanitise_image(buf.getvalue())
    assert max(out.width, out.height) <= MAX_OUTPUT_SIDE
    assert out.width / out.height == pytest.approx(6.0, rel=0.01)


def test_large_jpeg_is_decoded_reduced_and_stays_upright() -> None:
    from ingest.photos import MAX_OUTPUT_SIDE

    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to view
    buf = io.BytesIO()
    Image.new("RGB", (8200, 2000), (30, 30, 200)).save(buf, "JPEG", exif=exif.tobytes())
    out = sanitise_image(buf.getvalue())
    assert max(out.width, out.height) <= MAX_OUTPUT_SIDE
    assert out.height > out.width  # the orientation survived the reduction


def test_concurrent_decodes_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    import time

    from ingest import photos

    active = peak = 0
    lock = threading.Lock()
    real = photos._sanitise

    def counting(*args: object, **kwargs: object) -> object:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        try:
            time.sleep(0.05)
            return real(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            with lock:
                active -= 1

    monkeypatch.setattr(photos, "_sanitise", counting)
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (1, 2, 3)).save(buf, "PNG")
    data = buf.getvalue()
    threads = [threading.Thread(target=sanitise_image, args=(data,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 1 <= peak <= photos.MAX_CONCURRENT_DECODES


def test_a_huge_image_is_decoded_alone() -> None:
    from ingest.photos import _DecodeBudget

    budget = _DecodeBudget(40_000_000, 4)
    assert budget.acquire(35_000_000, timeout=0.01)
    assert not budget.acquire(35_000_000, timeout=0.01)  # two would be ~520 MB at once
    assert budget.acquire(2_000_000, timeout=0.01)  # a small one still fits beside it
    budget.release(35_000_000)
    assert budget.acquire(35_000_000, timeout=0.01)
