"""Both flows in one process, without a broker: the same step tuples the runners run.

For tools and tests that need real clean and triage output (seeding a database, a dry run);
async steps run inline (dedupe restore has no store here, so it does nothing).
"""

from __future__ import annotations

import asyncio
from typing import Any

from processors.flows import TriageState, clean_flow, default_lexicon, triage_flow
from processors.runtime.steps import AsyncStep, run_steps
from processors.sender_key import SenderKeyer
from schemas import RawTip, ScoredTip, Tip
from tipline.core.metrics import Counters
from tipline.core.settings import Settings


async def run_inline(step: AsyncStep, value: Any) -> Any:
    """Run an async step at once, without the runner's retry policy (tools and tests)."""
    return await step.fn(value)


class OfflinePipeline:
    """``clean(raw) -> Tip`` and ``triage(tip) -> ScoredTip`` with one dedupe state."""

    def __init__(self, sender_keys: SenderKeyer, settings: Settings | None = None) -> None:
        settings = settings or Settings()
        self._clean = clean_flow(sender_keys)
        state = TriageState.from_settings(settings, default_lexicon(settings), None, Counters())
        self._triage = triage_flow(state)

    def clean(self, raw: RawTip) -> Tip:
        tip: Tip = asyncio.run(run_steps(self._clean, raw, None, run_inline))
        return tip

    def triage(self, tip: Tip) -> ScoredTip:
        scored: ScoredTip = asyncio.run(run_steps(self._triage, tip, None, run_inline))
        return scored
