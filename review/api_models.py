"""The review app's JSON contract: what analysts' tools send and receive (see /api/openapi.json).

No model has a field for a sender key: a tipster appears only as ``tipster`` ("tipster
#3f9a12"), enough to see which tips share a sender and nothing more.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from review.api_queries import Status
from schemas.tip import Attachment, Corroboration, Evidence, Reason, RedactionKind


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class QueueItem(_Out):
    """One line of the queue: the best open tip of its cluster."""

    tip_id: str
    object_ref: str | None
    language: str
    score: int
    reasons: tuple[Reason, ...] = Field(description="Why the tip scored as it did, per feature.")
    evidence: Evidence
    cluster_size: int = Field(description="Tips in this tip's near-duplicate cluster (1: alone).")
    independent_tipsters: int = Field(description="Distinct senders among the cluster's tips.")
    received_at: datetime
    status: Status
    channel: str
    tipster: str = Field(description="Short, non-identifying sender tag, e.g. 'tipster #3f9a12'.")
    text: str = Field(description="Subject and start of the body on one line.")
    photos: int = Field(default=0, description="Photos sent with the tip.")
    claimed_by: str | None = Field(
        default=None, description="The analyst working on this cluster now, if any."
    )


class QueuePage(_Out):
    items: tuple[QueueItem, ...]
    next: str | None = Field(description="Pass as `after` for the next page; null on the last.")


class ClusterMember(_Out):
    tip_id: str
    score: int
    status: Status
    language: str
    received_at: datetime
    tipster: str
    duplicate_of: str | None
    similarity: float | None
    text: str


class StatusChangeOut(_Out):
    change_id: str | None
    tip_id: str
    from_status: str
    to_status: str
    analyst: str
    changed_at: datetime
    cluster_wide: bool
    note: str | None


class TipDetail(_Out):
    """A whole tip as stored, with its cluster and its review history."""

    tip_id: str
    object_ref: str | None
    object_refs: tuple[str, ...]
    channel: str
    received_at: datetime
    ingested_at: datetime
    subject: str
    body: str
    language: str
    language_confidence: float
    tipster: str
    redactions: dict[RedactionKind, int] = Field(
        description="How many items of each kind were removed from the text before storage."
    )
    attachments: tuple[Attachment, ...] = Field(description="Images: fetch from /media/{sha256}.")
    evidence: Evidence
    corroboration: tuple[Corroboration, ...]
    score: int
    score_version: str
    reasons: tuple[Reason, ...]
    status: Status
    reviewed_at: datetime | None
    reviewed_by: str | None
    sealed_contact: str | None = Field(
        default=None,
        description="Contact details the tipster agreed to give, sealed: only the investigators' "
        "private key opens them (`tipline contact-open`), never this app.",
    )
    cluster_id: str | None
    cluster_size: int
    independent_tipsters: int
    members: tuple[ClusterMember, ...] = Field(description="The cluster's tips, best first.")
    history: tuple[StatusChangeOut, ...]


class StatusChangeIn(BaseModel):
    """Move a tip (and, if asked, its cluster) to another status."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: Status
    note: str | None = Field(default=None, max_length=2000)
    cluster: bool = Field(
        default=False,
        description="Apply to every tip of the cluster that may make this change.",
    )
    expected: Status | None = Field(
        default=None,
        description="The status you saw; 409 if someone changed it meanwhile.",
    )


class StatusChangeResult(_Out):
    change_id: str
    status: Status
    changed: tuple[str, ...] = Field(description="Tip ids moved to the new status.")
    skipped: tuple[str, ...] = Field(
        description="Cluster members left as they were (already there, or not allowed)."
    )


class ConsensusItem(_Out):
    kind: str
    value: str
    tipsters: int = Field(description="Independent tipsters naming it.")
    tips: int
    best_tip_id: str
    best_score: int
    countries: tuple[str, ...] = Field(
        default=(),
        description="ISO codes of the countries it points to (listed when 30 or fewer).",
    )
    spread: int = Field(
        default=0, description="How many countries it points to; 0 when the lexicon does not say."
    )
    picture: str | None = Field(
        default=None,
        description="Kind photo: sha256 of one stored photo of the group (GET /media/{sha256}).",
    )


class Consensus(_Out):
    object_ref: str
    tips: int
    clusters: int
    tipsters: int
    reshared: int = Field(
        default=0,
        description="Tips whose photo is the object's own published picture (not counted).",
    )
    items: tuple[ConsensusItem, ...]


class ThroughputRow(_Out):
    minute: datetime
    channel: str
    tips: int
    mean_delay_s: float | None


class OpsSummary(_Out):
    minutes: int
    now: datetime
    throughput: tuple[ThroughputRow, ...] = Field(
        description="Per minute and channel, newest first."
    )
    by_status: dict[str, int]
    oldest_new_age_s: float | None = Field(
        description="Seconds since the oldest still-new tip was received; null if none."
    )


class ApiError(_Out):
    detail: str | list[dict[str, object]]
