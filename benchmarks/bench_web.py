"""Web intake throughput and latency on loopback: uvicorn in a subprocess, an async client here.

Phases (each bounded in time):
  1. saturation: closed loop, CONCURRENCY requests in flight, counts accepted tips per second;
  2. below saturation: open loop at half the measured rate, reports p50/p99 latency;
  3. the public form (multipart + CSRF cookie), closed loop.

Run against the in-memory sink always, and against the embedded Kafka broker (acks=all through
ingest.producer.TipProducer) when tipline.embedded can start it. The load generator shares the
machine's cores with the server, so the figures are a lower bound of what the server can do.

    python benchmarks/bench_web.py            # everything, about 1.5 minutes
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
from pydantic import SecretStr

from ingest.photos import MediaStore
from ingest.producer import TipProducer
from ingest.web import serve as serve_web
from tipline.core.settings import Settings
from tipline.core.topics import Topics, ensure_topics
from tipline.embedded import embedded_kafka

# tipline is installed editable into .venv (make), so its packages import from anywhere.
ROOT = Path(__file__).resolve().parents[1]
API_KEY = "bench-key-0123456789abcdef"
CONCURRENCY = 32
SATURATION_S = 10.0
OPEN_LOOP_S = 8.0
FORM_S = 6.0
BODY = (
    "Ich habe diese Tasche 2021 bei Rossmann in Graz gesehen, Marke Fjällräven, "
    "Regal neben der Kasse."
)


# --- server side (runs in the subprocess) --------------------------------------------------


class MemorySink:
    """Accepts every tip at once: measures the web layer without a broker."""

    def __init__(self) -> None:
        self.count = 0

    def submit(self, tip: object) -> None:
        self.count += 1

    async def submit_async(self, tip: object) -> None:
        self.count += 1


def serve(mode: str, port: int, bootstrap: str | None) -> None:
    logging.basicConfig(level=logging.WARNING)
    settings = Settings(
        web_port=port,
        web_secure_cookies=False,
        web_api_keys={"bench": SecretStr(API_KEY)},
        # The benchmark is one source: lift the per-source limits out of the way.
        web_source_rate=1e6,
        web_source_burst=1_000_000,
        web_partner_rate=1e6,
        web_partner_burst=1_000_000,
        web_global_rate=1e6,
        web_global_burst=1_000_000,
    )
    media = MediaStore(Path(tempfile.mkdtemp(prefix="bench-media-")))
    if mode == "kafka":
        assert bootstrap
        sink: object = TipProducer(bootstrap, "bench.tips.raw", linger_ms=2)
    else:
        sink = MemorySink()
    serve_web(settings, sink, media)  # type: ignore[arg-type]


# --- client side ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def server(mode: str, bootstrap: str | None = None) -> Iterator[str]:
    port = free_port()
    args = [sys.executable, __file__, "--serve", mode, str(port)] + (
        [bootstrap] if bootstrap else []
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(args, env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("web intake did not start")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def payload() -> dict[str, str]:
    return {"message_id": uuid.uuid4().hex, "object_ref": "bag-7", "body": BODY}


HEADERS = {"authorization": f"Bearer {API_KEY}"}


async def closed_loop(base: str, seconds: float) -> tuple[int, int, list[float]]:
    """CONCURRENCY workers, each sending the next tip as soon as the last was answered."""
    accepted = refused = 0
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        end = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal accepted, refused
            while time.perf_counter() < end:
                start = time.perf_counter()
                response = await client.post("/api/tips", json=payload(), headers=HEADERS)
                latencies.append(time.perf_counter() - start)
                if response.status_code == 202:
                    accepted += 1
                else:
                    refused += 1

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return accepted, refused, latencies


async def open_loop(base: str, rate: float, seconds: float) -> tuple[int, int, list[float]]:
    """Requests started on a fixed schedule, whatever the answers: latency below saturation."""
    accepted = refused = 0
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:

        async def one() -> None:
            nonlocal accepted, refused
            start = time.perf_counter()
            response = await client.post("/api/tips", json=payload(), headers=HEADERS)
            latencies.append(time.perf_counter() - start)
            if response.status_code == 202:
                accepted += 1
            else:
                refused += 1

        tasks = []
        begin = time.perf_counter()
        total = int(rate * seconds)
        for n in range(total):
            delay = begin + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one()))
        await asyncio.gather(*tasks)
    return accepted, refused, latencies


async def form_loop(base: str, seconds: float) -> tuple[int, int, list[float]]:
    accepted = refused = 0
    latencies: list[float] = []
    workers = CONCURRENCY // 2
    end = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal accepted, refused
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            page = await client.get("/objects/bag-7?lang=de")
            match = re.search(r'name="csrf" value="([^"]+)"', page.text)
            assert match
            token = match.group(1)
            while time.perf_counter() < end:
                start = time.perf_counter()
                response = await client.post(
                    "/objects/bag-7/tips?lang=de",
                    data={"csrf": token, "text": BODY},
                    files={"photo": ("", b"", "application/octet-stream")},
                )
                latencies.append(time.perf_counter() - start)
                if response.status_code == 200:
                    accepted += 1
                else:
                    refused += 1

    await asyncio.gather(*(worker() for _ in range(workers)))
    return accepted, refused, latencies


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def row(label: str, seconds: float, result: tuple[int, int, list[float]]) -> list[str]:
    accepted, refused, latencies = result
    return [
        label,
        f"{accepted / seconds:,.0f}",
        str(refused),
        f"{statistics.median(latencies) * 1000:.1f}" if latencies else "-",
        f"{pct(latencies, 0.99):.1f}",
    ]


def run_mode(mode: str, bootstrap: str | None, rows: list[list[str]]) -> None:
    with server(mode, bootstrap) as base:
        asyncio.run(closed_loop(base, 1.0))  # warm-up: connections, imports, broker metadata
        saturated = asyncio.run(closed_loop(base, SATURATION_S))
        rows.append(row(f"{mode}: API saturated, {CONCURRENCY} in flight", SATURATION_S, saturated))
        rate = max(10.0, saturated[0] / SATURATION_S / 2)
        asyncio.run(open_loop(base, rate, 1.0))  # warm-up: the open loop's own connections
        below = asyncio.run(open_loop(base, rate, OPEN_LOOP_S))
        rows.append(row(f"{mode}: API open loop at {rate:,.0f}/s", OPEN_LOOP_S, below))
        if mode == "memory":
            form = asyncio.run(form_loop(base, FORM_S))
            rows.append(row(f"{mode}: form saturated, {CONCURRENCY // 2} in flight", FORM_S, form))


def main() -> None:
    rows: list[list[str]] = []
    run_mode("memory", None, rows)
    kafka_note = ""
    try:
        with embedded_kafka() as bootstrap:
            topics = Topics.from_settings(Settings(topic_prefix="bench."))
            ensure_topics(bootstrap, topics, partitions=6, replication=1)
            run_mode("kafka", bootstrap, rows)
    except Exception as exc:  # the broker is optional for this benchmark
        kafka_note = f"embedded Kafka not measured: {type(exc).__name__}: {exc}"

    print(f"web intake on loopback, {os.cpu_count()} cores shared by server and load generator")
    header = ["phase", "accepted/s", "refused", "p50 ms", "p99 ms"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for line in [header, ["-" * w for w in widths], *rows]:
        print(
            "  ".join(
                cell.ljust(w) if i == 0 else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(line, widths, strict=True))
            )
        )
    print("goal: >= 1,000 accepted tips/s; p99 <= 50 ms below saturation")
    if kafka_note:
        print(kafka_note)


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else None)
    else:
        main()
