"""SenderActivity: how many tips one sender key sent in a recent window, bounded and deterministic.

Time is the tips' own ``received_at``, never the wall clock, so replaying a topic gives the same
counts. Memory is bounded twice: at most ``max_senders`` keys (the least recently active is
far over any burst threshold). One instance per partition (built on assignment, dropped on
revocation, see processors/flows.py); a sender key the instance has not seen is first restored
from the tips already stored (``restore``: the restore_activity step reads them), so counts
survive restarts and rebalances and include what other workers stored for that sender.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from schemas import Tip

if TYPE_CHECKING:
    from tipline.core.settings import Settings


@dataclass(frozen=True)
class ActivityLimits:
    """Window and caps; see ``Settings.sender_activity_*``."""

    window: timedelta = timedelta(hours=1)
    # More tips than this from one sender within the window lowers the score of each further one.
    burst: int = 5
    max_senders: int = 100_000
    max_events: int = 200

    @classmethod
    def from_settings(cls, settings: Settings) -> ActivityLimits:
        return cls(
            window=timedelta(seconds=settings.sender_activity_window_seconds),
            burst=settings.sender_activity_burst,
            max_senders=settings.sender_activity_max_senders,
            max_events=settings.sender_activity_max_events,
        )


class SenderActivity:
    """Per-sender_key counter of tips received within ``window`` before each tip."""

    def __init__(self, limits: ActivityLimits | None = None) -> None:
        self.limits = limits or ActivityLimits()
        # sender_key -> (received_at, tip_id) in arrival order; OrderedDict order = recency.
        self._events: OrderedDict[str, deque[tuple[datetime, str]]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._events)

    def knows(self, sender_key: str) -> bool:
        """Whether this sender's events are held (seen or restored since this state was built)."""
        return sender_key in self._events

    def restore(self, sender_key: str, events: Iterable[tuple[datetime, str]]) -> None:
        """Hold ``events`` (received_at, tip_id) of a sender not yet known here, oldest first;
        a tip seen again later (a replay) is not counted twice."""
        if sender_key in self._events:
            return
        held: deque[tuple[datetime, str]] = deque(maxlen=self.limits.max_events)
        held.extend(sorted(set(events)))
        self._events[sender_key] = held
        while len(self._events) > self.limits.max_senders:
            self._events.popitem(last=False)

    def observe(self, tip: Tip) -> int:
        """Record ``tip`` and return how many of its sender's tips fall in the window ending at it.

        The count includes ``tip`` itself; a tip without a sender key counts 1. Seeing the same
        ``tip_id`` again (a replayed message) does not count it twice.
        """
        key = tip.sender_key
        if key is None:
            return 1
        now = tip.received_at
        events = self._events.get(key)
        if events is None:
            events = deque(maxlen=self.limits.max_events)
            self._events[key] = events
            while len(self._events) > self.limits.max_senders:
                self._events.popitem(last=False)
        else:
            self._events.move_to_end(key)
        if all(tip_id != tip.tip_id for _, tip_id in events):
            events.append((now, tip.tip_id))
        start = now - self.limits.window
        # Events older than the window are useless for every later tip; tips arrive roughly in
        # order, so dropping from the left keeps the deque short.
        while events and events[0][0] < start:
            events.popleft()
        return sum(1 for at, _ in events if start <= at <= now)
