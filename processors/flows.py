"""The flows: which stages run, in which order, bound to the state they need. Read this first.

    tips.raw ──CLEAN──▶ tips.clean ──TRIAGE──▶ tips.scored ──STORE──▶ PostgreSQL (Sink)
              normalise → detect_language → redact
                  restore activity (per batch) → extract_evidence → restore dedupe → dedupe
                  → score → urgent

Language is detected on the normalised text before redaction, so redaction knows the language.
Adding a stage is one module and one line in a tuple below. State is bound here, at wiring
time: the clean flow has none beyond the sender-key secret; the triage flow's dedupe index and
sender activity are built per partition (``triage_flow(state)`` is called on assignment, and
its state dropped on revocation), and a partition's dedupe state and sender activity are restored
from the database.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Protocol

from processors.activity import ActivityLimits, SenderActivity
from processors.dedupe import DedupeIndex, dedupe
from processors.evidence import extract_evidence
from processors.language import detect_language
from processors.lexicon import Lexicon, load_lexicon
from processors.normalise import normalise
from processors.redact import redact
from processors.runtime.steps import Flow, async_step, batch_step
from processors.score import score
from processors.sender_key import SenderKeyer
from processors.urgent import flag_urgent
from schemas import RawTip, ScoredTip, Tip
from tipline.core.metrics import DEDUPE_EXEMPLARS, DEDUPE_OBJECTS, Counters
from tipline.core.settings import Settings

log = logging.getLogger(__name__)

RESTORE_LIMIT = 20_000  # earlier tips read back per object when its dedupe state is rebuilt

# Every partition's dedupe index that is still alive: a revoked partition's state is garbage
# once its flow is dropped, and leaves this set (and the gauges) with it.
_LIVE_INDEXES: weakref.WeakSet[DedupeIndex] = weakref.WeakSet()


def _held(key: str) -> float:
    return float(sum(index.stats()[key] for index in list(_LIVE_INDEXES)))


# Read on scrape only: summing the state's sizes costs nothing per tip.
DEDUPE_OBJECTS.set_function(lambda: _held("objects"))
DEDUPE_EXEMPLARS.set_function(lambda: _held("exemplars"))


class EarlierTips(Protocol):
    """Where dedupe state is restored from (store.history.TipStore in production)."""

    async def recent_tips(self, object_ref: str | None, limit: int) -> list[ScoredTip]: ...

    async def picture_hash(self, object_ref: str) -> str | None: ...


class EarlierActivity(Protocol):
    """Where sender activity is restored from (store.history.TipStore in production)."""

    async def senders_events(
        self, since: Mapping[str, datetime], limit: int
    ) -> dict[str, list[tuple[datetime, str]]]: ...


def clean_flow(sender_keys: SenderKeyer) -> Flow:
    return (
        normalise,
        detect_language,
        partial(redact, sender_keys=sender_keys),
    )


@dataclass
class TriageState:
    """One partition's triage state; built on assignment, dropped on revocation."""

    index: DedupeIndex
    activity: SenderActivity
    lexicon: Lexicon
    store: EarlierTips | None = None
    counters: Counters = field(default_factory=Counters)
    senders: EarlierActivity | None = None

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        lexicon: Lexicon,
        store: EarlierTips | None,
        counters: Counters,
        senders: EarlierActivity | None = None,
    ) -> TriageState:
        index = DedupeIndex.from_settings(settings)
        _LIVE_INDEXES.add(index)
        return cls(
            index=index,
            activity=SenderActivity(ActivityLimits.from_settings(settings)),
            lexicon=lexicon,
            store=store,
            counters=counters,
            senders=senders,
        )


async def restore_dedupe(tip: Tip, state: TriageState) -> Tip:
    """Rebuild the tip's object's dedupe state from the database when this partition holds
    none: after a restart, a rebalance that moved the partition here, or an eviction. The
    object's published picture is read with it (a picture changed later is seen at the next
    restore)."""
    if state.store is None or state.index.holds(tip.object_ref):
        return tip
    earlier = await state.store.recent_tips(tip.object_ref, RESTORE_LIMIT)
    # The object's published picture first: replayed photos that are only that picture
    # re-shared must not count as corroborating photos.
    picture = await state.store.picture_hash(tip.object_ref) if tip.object_ref else None
    state.index.restore(earlier, pictures={tip.object_ref: picture})
    if earlier:
        state.counters.add("dedupe_restores")
        log.info("restored dedupe state of object %s from %d tips", tip.object_ref, len(earlier))
    return tip


async def restore_activity(tips: Sequence[Tip], state: TriageState) -> None:
    """Restore the recent tips of every sender key of the batch that this partition's state
    does not know yet (after a restart, a rebalance, or a sender the LRU dropped), so a burst is
    counted across restarts and workers: one query for the whole batch. A sender's window
    starts from its first tip in the batch, as a restore before that tip would have read it.
    Idempotent: a known key is not read again."""
    if state.senders is None:
        return
    limits = state.activity.limits
    since: dict[str, datetime] = {}
    for tip in tips:
        key = tip.sender_key
        if key is not None and key not in since and not state.activity.knows(key):
            since[key] = tip.received_at - limits.window
    if not since:
        return
    found = await state.senders.senders_events(since, limits.max_events)
    for key in since:
        events = found.get(key, [])
        state.activity.restore(key, events)
        if events:
            state.counters.add("activity_restores")


def triage_flow(state: TriageState) -> Flow:
    return (
        # Leads the flow: it reads only the sender key and time the tip arrived with.
        batch_step(partial(restore_activity, state=state), "restore_activity"),
        partial(extract_evidence, lexicon=state.lexicon),
        async_step(partial(restore_dedupe, state=state), "restore_dedupe"),
        partial(dedupe, index=state.index),
        partial(score, activity=state.activity),
        flag_urgent,
    )


def pass_clean(raw: RawTip) -> Tip:
    """Identity clean stage for the benchmark baseline: the model changes, nothing else."""
    return Tip(**{k: v for k, v in raw if k != "channel_meta"})


def pass_triage(tip: Tip) -> ScoredTip:
    """Identity triage stage for the benchmark baseline."""
    return ScoredTip(**dict(tip))


PASSTHROUGH_CLEAN: Flow = (pass_clean,)
PASSTHROUGH_TRIAGE: Flow = (pass_triage,)


def default_lexicon(settings: Settings) -> Lexicon:
    return load_lexicon(settings.score_lexicon_path)
