"""Photo sanitising cost: milliseconds per 12-MP JPEG and per small PNG (decode + re-encode).

The 12-MP image is a camera-like photo (gradients plus sensor-like noise, EXIF with GPS), so
JPEG decoding and encoding do realistic work; the PNG is a 640x480 screenshot-sized RGBA image.

    python benchmarks/bench_photos.py        # about 20-40 seconds
"""

from __future__ import annotations

import io
import statistics
import time
from collections.abc import Callable

from PIL import Image

from ingest.photos import sanitise_image


def camera_like(width: int, height: int, mode: str = "RGB") -> Image.Image:
    """Smooth gradients with noise: compresses like a photo, not like a flat test card."""
    red = Image.linear_gradient("L").resize((width, height))
    green = Image.radial_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 40)
    img = Image.merge("RGB", (red, green, noise))
    return img.convert(mode)


def jpeg_12mp() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: the sanitiser must turn it upright
    exif[0x010F] = "BenchCam"
    exif.get_ifd(0x8825)[2] = (47.0, 4.0, 12.5)
    buf = io.BytesIO()
    camera_like(4000, 3000).save(buf, "JPEG", quality=92, exif=exif.tobytes())
    return buf.getvalue()


def small_png() -> bytes:
    buf = io.BytesIO()
    camera_like(640, 480, "RGBA").save(buf, "PNG")
    return buf.getvalue()


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    fn()  # warm-up
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    cases = [
        ("12-MP JPEG (4000x3000, EXIF+GPS)", jpeg_12mp(), 8),
        ("small PNG (640x480 RGBA)", small_png(), 40),
    ]
    rows = []
    for label, data, runs in cases:
        result = sanitise_image(data)
        times = timed(lambda data=data: sanitise_image(data), runs)
        rows.append(
            [
                label,
                f"{len(data) / 1e6:.2f}",
                f"{len(result.data) / 1e6:.2f}",
                str(runs),
                f"{statistics.median(times):.0f}",
                f"{max(times):.0f}",
            ]
        )
    header = ["input", "in MB", "out MB", "runs", "median ms", "max ms"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print("photo sanitising (decode, orient, copy pixels, re-encode), one thread")
    for line in [header, ["-" * w for w in widths], *rows]:
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(line, widths, strict=True))
            )
        )


if __name__ == "__main__":
    main()
