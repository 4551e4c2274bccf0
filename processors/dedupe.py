"""dedupe: put each tip in a cluster of (near-)identical tips about the same object."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from schemas import Cluster, ScoredTip, Tip


@dataclass
class _ClusterState:
    cluster_id: str
    representative_tip_id: str
    size: int = 0
    senders: set[str] = field(default_factory=set)


class DedupeIndex:
    """First version: exact duplicates only, in memory. Near-duplicates are issue #4's job."""

    def __init__(self) -> None:
        self._by_text: dict[tuple[str | None, str], _ClusterState] = {}

    def assign(self, tip: Tip) -> Cluster:
        text = " ".join(f"{tip.subject} {tip.body}".casefold().split())
        key = (tip.object_ref, text)
        state = self._by_text.get(key)
        exact = state is not None
        if state is None:
            digest = hashlib.sha256(f"{tip.object_ref}\x00{text}".encode()).hexdigest()[:16]
            state = _ClusterState(cluster_id=f"c-{digest}", representative_tip_id=tip.tip_id)
            self._by_text[key] = state
        state.size += 1
        if tip.sender_key:
            state.senders.add(tip.sender_key)
        return Cluster(
            cluster_id=state.cluster_id,
            representative_tip_id=state.representative_tip_id,
            size=state.size,
            distinct_senders=len(state.senders),
            duplicate_of=state.representative_tip_id if exact else None,
            similarity=1.0 if exact else 0.0,
            exact=exact,
        )


def dedupe(tip: Tip, index: DedupeIndex) -> ScoredTip:
    """Return the tip as a ScoredTip carrying its cluster."""
    return ScoredTip(**tip.model_dump(), cluster=index.assign(tip))
