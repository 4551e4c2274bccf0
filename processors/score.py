"""score: a 0-100 relevance score with the reasons an analyst can read."""

from __future__ import annotations

from schemas import Reason, ScoredTip

SCORE_VERSION = "0.1"
_BASE = 30


def score(tip: ScoredTip) -> ScoredTip:
    """First version: rewards content and corroboration; the real model is issue #4's job."""
    reasons: list[Reason] = []
    words = len(tip.body.split())
    if words <= 1:
        reasons.append(Reason(feature="empty", text="empty or one-word tip", weight=-25))
    elif words >= 8:
        reasons.append(Reason(feature="detail", text=f"{words} words of detail", weight=10))
    if tip.evidence.years:
        reasons.append(Reason(feature="year", text="names a year", weight=5))
    if tip.cluster and tip.cluster.distinct_senders > 1:
        n = tip.cluster.distinct_senders
        reasons.append(
            Reason(feature="agree", text=f"{n} independent tipsters agree", weight=min(15, 5 * n))
        )
    total = max(0, min(100, _BASE + sum(r.weight for r in reasons)))
    return tip.model_copy(
        update={"score": total, "reasons": tuple(reasons), "score_version": SCORE_VERSION}
    )
