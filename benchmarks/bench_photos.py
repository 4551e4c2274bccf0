"""Photo sanitising cost: milliseconds per 12-MP JPEG and per small PNG (decode + re-encode).

The 12-MP image is a camera-like photo (gradients plus sensor-like noise, EXIF with GPS), so
JPEG decoding and encoding do realistic work; the PNG is a 640x480 screenshot-sized RGBA image.

Memory: peak RSS of a fresh intake-like process (the web app imported) sanitising one, then
four at once, 35-megapixel flat PNGs (~150 kB each: the audit's memory bomb), and a 35-MP JPEG.
The intake must stay below 512 MiB (decodes are capped by a semaphore, large images reduced).

    python benchmarks/bench_photos.py        # about 30-60 seconds
"""

from __future__ import annotations

import io
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

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


_RSS_CHILD = """
import sys, threading
from pathlib import Path
import ingest.web  # what the intake process has loaded
from ingest.photos import sanitise_image
def peak():
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the process before exec.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")
data = Path(sys.argv[1]).read_bytes()
threads = int(sys.argv[2])
base = peak()
workers = [threading.Thread(target=sanitise_image, args=(data,)) for _ in range(threads)]
for w in workers: w.start()
for w in workers: w.join()
print(f"{base:.0f} {peak():.0f}")
"""


def rss_case(path: Path, threads: int) -> tuple[float, float]:
    out = subprocess.run(
        [sys.executable, "-c", _RSS_CHILD, str(path), str(threads)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return float(out[0]), float(out[1])


def memory() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        png, jpeg = Path(tmp) / "40mp.png", Path(tmp) / "40mp.jpg"
        Image.new("RGB", (7000, 5000), (120, 40, 200)).save(png, "PNG")
        camera_like(7000, 5000).save(jpeg, "JPEG", quality=85)
        print()
        print("intake memory, peak RSS of a fresh process (MiB), limit 512")
        print(f"{'input':<34}{'threads':>8}{'base':>8}{'peak':>8}")
        for label, path, threads in (
            (f"35-MP flat PNG ({png.stat().st_size // 1000} kB)", png, 1),
            (f"35-MP flat PNG ({png.stat().st_size // 1000} kB)", png, 4),
            (f"35-MP JPEG ({jpeg.stat().st_size // 1_000_000} MB)", jpeg, 4),
        ):
            base, peak = rss_case(path, threads)
            print(f"{label:<34}{threads:>8}{base:>8.0f}{peak:>8.0f}")


if __name__ == "__main__":
    main()
    memory()
