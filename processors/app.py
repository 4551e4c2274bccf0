"""The worker's wiring: topics, one runner per flow, and the backend. The flows are in flows.py.

    tips.raw ──clean──▶ tips.clean ──triage──▶ tips.scored ──sink──▶ PostgreSQL
        │  normalise → detect_language → redact   │  restore activity → extract_evidence
        │                                         │  → restore dedupe → dedupe → score → urgent
        └────────────── tips.dead (reason, never tipster data) ◀──────────────┘

Each runner decodes, runs its flow and encodes (processors/runtime/runner.py); the dead-letter
policy sends only invalid input to tips.dead and stops the worker on anything else. Offsets of a
batch are committed only after its output is durable — produced with acks=all for the stream
stages, committed to PostgreSQL for the sink — so a killed worker replays at most one commit
interval, and the idempotent sink absorbs the replay.
"""

from __future__ import annotations

import gc
import logging
from functools import partial
from typing import Any

from processors.flows import (
    PASSTHROUGH_CLEAN,
    PASSTHROUGH_TRIAGE,
    TriageState,
    clean_flow,
    default_lexicon,
    triage_flow,
)
from processors.language import warm_up
from processors.runtime.backends.faust import StreamApp, add_runner, add_timer
from processors.runtime.backends.faust import create_app as create_faust_app
from processors.runtime.dlq import DlqLimit
from processors.runtime.runner import Runner
from processors.runtime.steps import Flow, StepTimes
from processors.score import W_AGREE_MAX, W_AGREE_STEP, W_SAME_MAX, W_SAME_STEP
from processors.sender_key import SenderKeyer
from schemas import RawTip, ScoredTip, Tip
from store.history import TipStore
from store.rescore import CrowdRule
from store.sink import TipWriter
from tipline.core.metrics import Counters, report
from tipline.core.security import database_conninfo, faust_credentials
from tipline.core.settings import Settings
from tipline.core.topics import Topics

log = logging.getLogger(__name__)


def crowd_rule() -> CrowdRule:
    """The scorer's crowd weights, for the sink's re-scoring (store/rescore.py)."""
    return CrowdRule(
        agree_step=W_AGREE_STEP, agree_max=W_AGREE_MAX, same_step=W_SAME_STEP, same_max=W_SAME_MAX
    )


def build_runners(
    settings: Settings,
    *,
    sender_keys: SenderKeyer,
    topics: Topics,
    writer: TipWriter,
    store: TipStore | None,
    counters: Counters,
    times: StepTimes | None = None,
) -> tuple[Runner, Runner, Runner]:
    """The clean, triage and sink runners, for any backend."""
    limit = DlqLimit(
        max_invalid_ratio=settings.dlq_max_invalid_ratio,
        max_consecutive_count=settings.dlq_max_consecutive,
    )
    lexicon = default_lexicon(settings)
    clean = PASSTHROUGH_CLEAN if settings.passthrough else clean_flow(sender_keys)

    def triage(_partition: int) -> Flow:
        if settings.passthrough:
            return PASSTHROUGH_TRIAGE
        return triage_flow(
            TriageState.from_settings(settings, lexicon, store, counters, senders=store)
        )

    runner = partial(
        Runner, dead_topic=topics.dead, counters=counters, dlq_limit=limit, times=times
    )
    return (
        runner(
            stage="clean",
            model=RawTip,
            flow_for=lambda _partition: clean,
            out_topic=topics.clean,
            done="tips_cleaned",
        ),
        runner(
            stage="triage",
            model=Tip,
            flow_for=triage,
            out_topic=topics.scored,
            done="tips_triaged",
        ),
        runner(stage="sink", model=ScoredTip, flow_for=lambda _partition: (), sink=writer),
    )


def broker_conf(settings: Settings) -> dict[str, Any]:
    """faust's broker settings for the worker: group timing and, from the TLS/SASL settings,
    the credentials its consumer and producer connect with (None: plaintext)."""
    return {
        "broker_session_timeout": settings.session_timeout,
        "broker_heartbeat_interval": settings.heartbeat_interval,
        "broker_commit_interval": settings.commit_interval,
        "broker_credentials": faust_credentials(settings),
    }


def create_app(settings: Settings, sender_keys: SenderKeyer) -> StreamApp:
    """Build the app for resolved settings (``kafka`` and ``database_url`` must be set)."""
    if not settings.kafka or not settings.database_url:
        raise ValueError("create_app needs resolved kafka and database_url settings")
    database_url = database_conninfo(settings)  # with the TLS settings applied
    topics = Topics.from_settings(settings)
    (settings.data_dir / "faust").mkdir(parents=True, exist_ok=True)
    app = create_faust_app(
        settings.app_id,
        settings.kafka.split(","),
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
        **broker_conf(settings),
        datadir=str(settings.data_dir / "faust"),
    )
    counters = Counters()
    times = StepTimes()  # two clock reads per step: negligible beside any stage
    clean, triage, sink = build_runners(
        settings,
        sender_keys=sender_keys,
        topics=topics,
        writer=TipWriter(database_url, crowd=crowd_rule()),
        store=TipStore(database_url),
        counters=counters,
        times=times,
    )
    size, within = settings.stream_batch_size, settings.stream_batch_seconds
    add_runner(app, clean, topics.raw, (topics.clean, topics.dead), size=size, within=within)
    add_runner(app, triage, topics.clean, (topics.scored, topics.dead), size=size, within=within)
    add_runner(
        app,
        sink,
        topics.scored,
        (topics.dead,),
        size=settings.sink_batch_size,
        within=settings.sink_batch_seconds,
    )
    warm_up()  # load language models now, not on the first tip after a press release
    if settings.gc_freeze:
        # Models, lexicons and modules are never garbage: moved out of the collector's view,
        # full collections no longer walk them (they stalled the worker for 300–900 ms).
        gc.collect()
        gc.freeze()
    if settings.gc_gen0_threshold:
        # Measured with 150k tips of dedupe state: young collections 172 -> 2 per 20k tips,
        # their total pause roughly halved, the longest ≈ 80 ms.
        _, gen1, gen2 = gc.get_threshold()
        gc.set_threshold(settings.gc_gen0_threshold, gen1, gen2)

    async def report_metrics() -> None:
        counts = counters.take()
        if any(counts.values()):
            log.info("metrics over %gs: %s", settings.metrics_interval, report(counts))
            stages = " ".join(f"{k}={v:.0f}" for k, v in times.microseconds().items())
            log.info("mean µs per step since start: %s", stages)

    add_timer(app, settings.metrics_interval, report_metrics)
    # Database connections close with the process: closing them earlier, while an agent may
    # still be finishing a batch, would only turn a clean stop into a retry.
    return app
